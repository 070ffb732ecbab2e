// A traced child that execs: without PTRACE_O_TRACEEXEC the kernel stops it
// with a SIGTRAP after the exec, which its tracer suppresses.
#include "kernel_common.h"
#include <sys/ptrace.h>
#include <sys/user.h>

int main(int argc, char** argv) {
  if (argc > 1) {
    printf("the exec'd child runs with %s\n", argv[1]);
    return 4;
  }
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
    execl("/proc/self/exe", argv[0], "an argument", (char*)0);
    _exit(99);
  }
  int status;
  CHECK(waitpid(child, &status, 0) == child);
  printf("after its exec: stopped %d by %s\n", WIFSTOPPED(status), strsignal(WSTOPSIG(status)));
  struct user_regs_struct regs;
  CHECK(ptrace(PTRACE_GETREGS, child, 0, &regs) == 0);
  printf("stopped after syscall %llu, which returned %lld\n", regs.orig_rax, (long long)regs.rax);
  CHECK(ptrace(PTRACE_CONT, child, 0, 0) == 0);
  CHECK(waitpid(child, &status, 0) == child);
  printf("child exited with %d\n", WEXITSTATUS(status));
  return 0;
}
