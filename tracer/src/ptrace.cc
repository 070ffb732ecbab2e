#include "ttdb/tracer/ptrace.h"

#include <sys/ptrace.h>

#include <cerrno>

#include "ttdb/base/error.h"
#include "ttdb/base/log.h"

namespace ttdb {

const char* ptrace_request_name(int request) {
  switch (request) {
    case PTRACE_TRACEME: return "PTRACE_TRACEME";
    case PTRACE_CONT: return "PTRACE_CONT";
    case PTRACE_KILL: return "PTRACE_KILL";
    case PTRACE_SINGLESTEP: return "PTRACE_SINGLESTEP";
    case PTRACE_GETREGS: return "PTRACE_GETREGS";
    case PTRACE_SETREGS: return "PTRACE_SETREGS";
    case PTRACE_GETFPREGS: return "PTRACE_GETFPREGS";
    case PTRACE_SETFPREGS: return "PTRACE_SETFPREGS";
    case PTRACE_ATTACH: return "PTRACE_ATTACH";
    case PTRACE_DETACH: return "PTRACE_DETACH";
    case PTRACE_SYSCALL: return "PTRACE_SYSCALL";
    case PTRACE_SETOPTIONS: return "PTRACE_SETOPTIONS";
    case PTRACE_GETEVENTMSG: return "PTRACE_GETEVENTMSG";
    case PTRACE_GETSIGINFO: return "PTRACE_GETSIGINFO";
    case PTRACE_SETSIGINFO: return "PTRACE_SETSIGINFO";
    case PTRACE_GETREGSET: return "PTRACE_GETREGSET";
    case PTRACE_SETREGSET: return "PTRACE_SETREGSET";
    case PTRACE_SEIZE: return "PTRACE_SEIZE";
    case PTRACE_INTERRUPT: return "PTRACE_INTERRUPT";
    case PTRACE_LISTEN: return "PTRACE_LISTEN";
    case PTRACE_PEEKUSER: return "PTRACE_PEEKUSER";
    case PTRACE_GETSIGMASK: return "PTRACE_GETSIGMASK";
    case PTRACE_SETSIGMASK: return "PTRACE_SETSIGMASK";
    case PTRACE_POKEUSER: return "PTRACE_POKEUSER";
    case PTRACE_GET_SYSCALL_INFO: return "PTRACE_GET_SYSCALL_INFO";
    case PTRACE_SYSEMU: return "PTRACE_SYSEMU";
    case PTRACE_SYSEMU_SINGLESTEP: return "PTRACE_SYSEMU_SINGLESTEP";
    default: return "PTRACE_?";
  }
}

bool fallible_ptrace(int request, pid_t tid, void* addr, void* data, long* result) {
  errno = 0;
  long rc = ::ptrace(static_cast<__ptrace_request>(request), tid, addr, data);
  int error = errno;
  TTDB_LOG(ptrace, "{}({}, {}, {}) = {}{}", ptrace_request_name(request), tid, addr, data, rc,
           rc == -1 && error ? " " + errno_text(error) : "");
  if (rc == -1 && error == ESRCH) return false;
  if (rc == -1 && error != 0)
    throw InternalError(fmt::format("{}(tid {}, addr {}, data {}) failed: {}",
                                    ptrace_request_name(request), tid, addr, data,
                                    errno_text(error)));
  if (result) *result = rc;
  return true;
}

}  // namespace ttdb
