// The shim's control block as the tracer reads and writes it (shim_abi.h):
// what syscall_buffer.cc and shim_records.cc share.
#pragma once

#include <cstddef>

#include "shim_abi.h"
#include "ttdb/base/error.h"
#include "ttdb/tracer/syscall_buffer.h"

namespace ttdb {

using Control = ttdb_shim_control;

#define CONTROL_FIELD(shim, name) (shim).control(offsetof(Control, name))

inline void write_checked(Tracee& tracee, RemotePtr at, ByteView bytes) {
  if (!tracee.write_data(at, bytes)) fail("cannot write the syscall buffer's memory at {:#x}", at.addr());
}

template <typename T>
void write_field(Tracee& tracee, RemotePtr at, const T& value) {
  write_checked(tracee, at, ByteView(reinterpret_cast<const std::uint8_t*>(&value), sizeof value));
}

}  // namespace ttdb
