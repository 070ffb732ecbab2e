// The stack the kernel builds at exec (argv, envp, the aux vector and the 16
// random bytes of AT_RANDOM). Recording keeps it whole; replay checks that
// its own exec built one of the same shape and writes the recorded bytes over
// it, which restores AT_RANDOM (stack canary, pointer guard) exactly.
#pragma once

#include <cstdint>
#include <vector>

#include "ttdb/base/bytes.h"
#include "ttdb/tracer/proc_maps.h"
#include "ttdb/tracer/tracee.h"

namespace ttdb {

// How the vDSO's functions are kept from reading the clock unrecorded (their
// `rdtsc` traps, and what they compute from the kernel's clock data differs
// in replay). An exec event says which one its recording used (a5).
enum class VdsoTreatment : std::uint64_t {
  // Traces of format 5 and before: the names of the functions and of their
  // version are changed in its string table, so that a lookup (glibc's,
  // Go's) finds none and falls back to syscalls. A program that looks them
  // up itself finds nothing, and one that calls the unprefixed aliases
  // reads the clock unrecorded.
  hidden = 0,
  // Each function's first bytes become the syscall it stands for (rr's
  // way): the vDSO is the kernel's, names and all, and every call through
  // it, however found, is a syscall the recorder sees (or the syscall
  // buffer, once its site is patched). `getrandom`'s answers ENOSYS, which
  // makes its callers fall back to the syscall.
  syscalls = 1,
};

struct InitialStack {
  RemotePtr sp;   // the stack pointer at exec
  RemotePtr top;  // the end of the stack mapping
  Bytes bytes;    // [sp, top): the arguments, environment and aux vector, as the kernel laid them out
  RemotePtr at_random;
  std::uint64_t at_phdr = 0;  // where the program's headers are mapped
  // A `syscall` instruction of the vDSO's own (outside the rewritten
  // functions): where ttdb injects its syscalls until the shim is mapped,
  // and replay for good. 0 when there is none.
  std::uint64_t vdso_syscall = 0;
  // VdsoTreatment::syscalls: the `syscall` instruction of each rewritten
  // function, followed by `cmp rax, -4095` (8 bytes): syscall buffer sites.
  std::vector<std::uint64_t> vdso_sites;
  // VdsoTreatment::syscalls: the clock functions' own code, entered where
  // the program no longer can, each with its stub's site: {site, entry}.
  // The syscall buffer calls them while recording, when rdtsc does not
  // fault. In the mapping's free bytes after the vDSO's ELF file, in replay too.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> vdso_clocks;
  std::uint64_t vdso_start = 0, vdso_end = 0;
};

// At the exec stop: finds the stack and treats the vDSO as `vdso` says.
// `maps`: the new program's mappings (read_maps), which the exec stop reads
// once for everything it does.
InitialStack prepare_initial_stack(Tracee& tracee, VdsoTreatment vdso, const std::vector<Mapping>& maps);

}  // namespace ttdb
