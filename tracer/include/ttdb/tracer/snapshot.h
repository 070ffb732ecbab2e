// A program's whole user-visible state: registers, extended (FPU/vector)
// state and writable memory. Recording takes one when it must stop the
// program in the middle of a long stretch without syscalls (to deliver a
// signal there); replay restores it at the same instruction, which is exact
// because nothing outside the program changed during such a stretch.
#pragma once

#include "ttdb/trace/event.h"
#include "ttdb/tracer/tracee.h"

namespace ttdb {

// The snapshot as a trace event: a0 = rip, a1 = the size of the extended
// state; info = the registers (user_regs_struct) then the extended state;
// mem = every writable mapping, in chunks of 64 KiB so that unchanged chunks
// of repeated snapshots are stored once.
trace::Event capture_snapshot(Tracee& tracee);

struct SnapshotRegisters {
  Registers regs{};
  Bytes xstate;
};
// Throws ttdb::Error when the event's info is malformed.
SnapshotRegisters snapshot_registers(const trace::Event& event);

}  // namespace ttdb
