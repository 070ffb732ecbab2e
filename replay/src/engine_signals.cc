// Signals as positions: a signal's arrival is a stop like a breakpoint's,
// going forward and backward, and a single step that delivers a signal
// ends at its handler's first instruction, as it does under gdb.
#include <csignal>

#include "engine_impl.h"

namespace ttdb {

bool step_entered_handler(const siginfo_t& info) {
  // The kernel reports a step that delivered a signal before the handler's
  // first instruction runs, by ptrace_notify(SIGTRAP): that is the code.
  // Taken for the next event's first stop, it made the replay diverge.
  return info.si_signo == SIGTRAP && info.si_code == SIGTRAP;
}

}  // namespace ttdb
