// The shim's control block as the tracer reads and writes it (shim_abi.h):
// what syscall_buffer.cc and shim_records.cc share.
#pragma once

#include <asm/unistd_64.h>

#include <cstddef>
#include <cstdint>

#include "shim_abi.h"
#include "ttdb/base/error.h"
#include "ttdb/tracer/syscall_buffer.h"

namespace ttdb {

using Control = ttdb_shim_control;

// Which argument carries the secret, as the shim puts it and the filter
// looks for it: preadv2 and pwritev2 need the sixth (their flags); mmap too
// (its offset), where the secret's high half goes in the descriptor's high
// half, which the kernel ignores (it takes an int).
constexpr bool secret_in_fifth(std::uint32_t nr) {
  return nr == __NR_preadv2 || nr == __NR_pwritev2 || nr == __NR_mmap;
}

// Puts the secret in syscall `nr`'s arguments where the filter looks for it.
inline void carry_secret(long nr, std::uint64_t* args, std::uint64_t secret) {
  if (nr == __NR_mmap) args[TTDB_SECRET_ARG_RWV2] = (secret & 0xffffffff00000000ull) | (args[TTDB_SECRET_ARG_RWV2] & 0xffffffffull);
  else args[secret_in_fifth(static_cast<std::uint32_t>(nr)) ? TTDB_SECRET_ARG_RWV2 : TTDB_SECRET_ARG] = secret;
}

#define CONTROL_FIELD(shim, name) (shim).control(offsetof(Control, name))

inline void write_checked(Tracee& tracee, RemotePtr at, ByteView bytes) {
  if (!tracee.write_data(at, bytes)) fail("cannot write the syscall buffer's memory at {:#x}", at.addr());
}

template <typename T>
void write_field(Tracee& tracee, RemotePtr at, const T& value) {
  write_checked(tracee, at, ByteView(reinterpret_cast<const std::uint8_t*>(&value), sizeof value));
}

}  // namespace ttdb
