#include "ttdb/tracer/snapshot.h"

#include <cstring>

#include "ttdb/base/error.h"
#include "ttdb/tracer/proc_maps.h"
#include "ttdb/tracer/syscall_buffer.h"

namespace ttdb {
namespace {
constexpr std::uint64_t kChunk = 64 * 1024;
}

trace::Event capture_snapshot(Tracee& tracee) {
  trace::Event e;
  e.kind = trace::EventKind::snapshot;
  e.tid = tracee.tid();
  Registers regs = tracee.regs();
  Bytes xstate = tracee.xstate();
  e.args[0] = regs.rip;
  e.args[1] = xstate.size();
  const auto* raw = reinterpret_cast<const std::uint8_t*>(&regs);
  e.info.assign(raw, raw + sizeof regs);
  e.info.insert(e.info.end(), xstate.begin(), xstate.end());
  for (const auto& m : read_maps(tracee.tid())) {
    if (!m.writable || !m.readable || m.path == "[vvar]" || m.path == "[vsyscall]") continue;
    // The syscall buffer's state is ttdb's, and differs between recording and replay.
    if (in_shim(m.start)) continue;
    for (std::uint64_t at = m.start; at < m.end; at += kChunk) {
      trace::MemWrite chunk;
      chunk.addr = at;
      chunk.size = std::min(kChunk, m.end - at);
      auto bytes = tracee.try_read_bytes(RemotePtr(at), chunk.size);
      if (!bytes) continue;
      chunk.data = std::move(*bytes);
      e.mem.push_back(std::move(chunk));
    }
  }
  return e;
}

SnapshotRegisters snapshot_registers(const trace::Event& e) {
  SnapshotRegisters out;
  if (e.info.size() != sizeof(Registers) + e.args[1])
    fail("the snapshot at event {} is malformed ({} bytes of registers)", e.id, e.info.size());
  std::memcpy(&out.regs, e.info.data(), sizeof out.regs);
  out.xstate.assign(e.info.begin() + sizeof(Registers), e.info.end());
  return out;
}

}  // namespace ttdb
