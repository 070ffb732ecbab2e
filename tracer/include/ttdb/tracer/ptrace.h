// The one place ttdb calls ptrace(2).
//
// Failure policy: ESRCH means the tracee died or is not stopped, which is
// routine (a program can be killed at any moment): the call returns false.
// Any other errno is a bug in ttdb: it throws InternalError naming the
// request, the tid, addr and data. Every call is logged under TTDB_LOG=ptrace.
#pragma once

#include <sys/types.h>

namespace ttdb {

bool fallible_ptrace(int request, pid_t tid, void* addr, void* data, long* result = nullptr);

// The name of a ptrace request ("PTRACE_SYSCALL"), for messages.
const char* ptrace_request_name(int request);

}  // namespace ttdb
