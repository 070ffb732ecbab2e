// The stack the kernel builds at exec (argv, envp, the aux vector and the 16
// random bytes of AT_RANDOM). Recording keeps it whole; replay checks that
// its own exec built one of the same shape and writes the recorded bytes over
// it, which restores AT_RANDOM (stack canary, pointer guard) exactly.
#pragma once

#include <cstdint>

#include "ttdb/base/bytes.h"
#include "ttdb/tracer/tracee.h"

namespace ttdb {

struct InitialStack {
  RemotePtr sp;   // the stack pointer at exec
  RemotePtr top;  // the end of the stack mapping
  RemotePtr at_random;
};

// At the exec stop: finds the stack and hides the vDSO's functions from the
// program (see hide_vdso_functions), so that glibc makes real
// clock_gettime/gettimeofday/time syscalls, which ttdb records.
InitialStack prepare_initial_stack(Tracee& tracee);

// The vDSO stays where the aux vector says (a program may read it), but
// the names of its functions and of their version are changed in its string
// table: a lookup (glibc's, Go's) finds none and falls back to syscalls.
// Record and replay make the same change, so the bytes read the same.
void hide_vdso_functions(Tracee& tracee, std::uint64_t vdso);

}  // namespace ttdb
