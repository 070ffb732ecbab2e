// Small facts about signals that recording and replay must agree on.
#pragma once

#include <signal.h>

#include <cstdint>

namespace ttdb {

// A signal the program's own instruction raised (a bad pointer, a division by
// zero, an int3): it recurs by itself when the same code runs again.
inline bool is_fault(const siginfo_t& info) {
  switch (info.si_signo) {
    case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGTRAP: return info.si_code > 0;
    default: return false;
  }
}

inline std::uint64_t sigbit(int sig) { return 1ull << (sig - 1); }

}  // namespace ttdb
