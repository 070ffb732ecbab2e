// A program's whole user-visible state: registers, extended (FPU/vector)
// state and writable memory. Recording takes one when it must stop the
// program in the middle of a long stretch without syscalls (to deliver a
// signal there); replay restores it at the same instruction, which is exact
// because nothing outside the program changed during such a stretch.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "ttdb/base/unique_fd.h"
#include "ttdb/trace/event.h"
#include "ttdb/tracer/proc_maps.h"
#include "ttdb/tracer/syscall_buffer.h"
#include "ttdb/tracer/tracee.h"

namespace ttdb {

// The pages a process wrote since its last snapshot, as the kernel tracks
// them: userfaultfd's asynchronous write-protection marks a page written at
// its first write (a minor fault the kernel resolves itself), and the
// pagemap's PAGEMAP_SCAN reads the marks and protects the pages again, in
// one call (Linux 6.7). Replay restores a snapshot at the same instruction
// after running the same code from the same state at the last event, so
// only what was written since (a subset of what was written since the
// previous snapshot) can differ.
class WrittenPages {
 public:
  WrittenPages() = default;
  // A copy (a forked child's) tracks nothing yet: tracking is of one
  // process's memory, through a descriptor only that process could make.
  WrittenPages(const WrittenPages&) {}
  WrittenPages& operator=(const WrittenPages&) {
    *this = WrittenPages{};
    return *this;
  }
  WrittenPages(WrittenPages&&) = default;
  WrittenPages& operator=(WrittenPages&&) = default;

  // The parts of mapping `m` of process `process` written since the last
  // call; all of it the first time, and wherever the kernel cannot track it.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> take(Tracee& tracee, pid_t process, std::uint64_t inject_at,
                                                           const Mapping& m);

 private:
  bool start(Tracee& tracee, pid_t process, std::uint64_t inject_at);
  bool tracked(const Mapping& m);
  pid_t process_ = 0;
  bool unavailable_ = false;
  UniqueFd uffd_, pagemap_;
};

// The snapshot as a trace event: a0 = rip, a1 = the size of the extended
// state; info = the registers (user_regs_struct) then the extended state;
// mem = the writable memory (all of it, or with `written`, what the process
// wrote since its previous snapshot), in chunks of at most 64 KiB so that
// unchanged chunks of repeated snapshots are stored once. `inject_at`: a
// syscall instruction for ttdb's own syscalls in the process. The syscall
// buffer's memory (at `shim`) is ttdb's, not the program's: left out.
trace::Event capture_snapshot(Tracee& tracee, WrittenPages* written = nullptr, pid_t process = 0,
                              std::uint64_t inject_at = 0, const ShimPlace& shim = {});

struct SnapshotRegisters {
  Registers regs{};
  Bytes xstate;
};
// Throws ttdb::Error when the event's info is malformed.
SnapshotRegisters snapshot_registers(const trace::Event& event);

}  // namespace ttdb
