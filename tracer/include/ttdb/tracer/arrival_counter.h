// Counting the program's arrivals at one instruction inside the program
// itself, at native speed.
//
// Without a branch counter, "the N-th time the program arrives at A" is how
// a position inside a long stretch without syscalls is named. An int3 at A
// costs a ptrace stop per arrival (17 us here: 40 minutes for 150 million
// rounds of a loop). A counter instead moves the instructions at A (at least
// 5 bytes of them) into a trampoline that counts down, traps when the count
// runs out, runs them and jumps back: one stop in all, whatever N is.
//
// The trampoline leaves every register, flag and byte of the program's own
// memory as the original code would; a stop inside it (a fault, a watchpoint
// on a moved instruction) is mapped back to the original address.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "ttdb/base/bytes.h"
#include "ttdb/tracer/tracee.h"

namespace ttdb {

class ArrivalCounter {
 public:
  struct Where {
    std::uint64_t addr = 0;   // the instruction whose arrivals count
    std::uint64_t limit = 0;  // trap at this arrival; 0: never, only count
    // The program stands on `addr` now: leaving it is not an arrival (as
    // with an int3, which is never put where the program stands).
    bool standing = false;
  };
  // Counters in place at once, each in a slot of its own.
  static constexpr unsigned kSlots = 63;
  // Installs a counter in the stopped tracee. `pages` are the counter pages
  // its process has (a page is mapped within reach, and added, when none
  // is); `avoid` says which addresses must not move (ttdb's own patches,
  // where other threads stand). nullopt when the code at `addr` cannot move.
  static std::optional<ArrivalCounter> install(Tracee& tracee, std::uint64_t syscall_insn,
                                               std::vector<std::uint64_t>& pages, const Where& where, unsigned slot,
                                               const std::function<bool(std::uint64_t)>& avoid);

  // How many bytes a counter at `addr` would move (whole instructions, at
  // least 5), as the program's code stands.
  static std::optional<std::uint64_t> moved_length(Tracee& tracee, std::uint64_t addr);

  std::uint64_t addr() const { return where_.addr; }
  // The bytes the counter moved: [addr, addr + length).
  std::uint64_t length() const { return original_.size(); }
  // For a stop at the counter's trap: puts the program at `addr`, exactly as
  // an arrival there leaves it, and returns true.
  bool take_trap(Tracee& tracee) const;
  // Arrivals counted so far (at the trap: `limit`).
  std::uint64_t arrivals(Tracee& tracee) const;
  // Times the program ran the moved code so far; an instruction the counter
  // moved that every run of it reaches (no branch before it) was arrived at
  // that many times.
  std::uint64_t executions(Tracee& tracee) const;
  bool passes_through(std::uint64_t addr) const;
  // A stop inside the moved instructions: where the program is in its own code.
  std::optional<std::uint64_t> original_pc(std::uint64_t pc) const;
  // Puts the program's code back; the page stays for later counters.
  void remove(Tracee& tracee) const;

 private:
  Where where_;
  std::uint64_t code_ = 0, data_ = 0;  // the slot's code and data
  std::uint64_t initial_ = 0;   // the count-down's start
  std::uint64_t trap_rip_ = 0;  // where the trap's int3 leaves the program
  Bytes original_;
  // Each moved instruction's copy, and the address after the last copy, with
  // the program's own addresses they stand for.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> moved_;
  std::uint64_t straight_end_ = 0;  // the moved instructions from addr up to here have no branch
};

}  // namespace ttdb
