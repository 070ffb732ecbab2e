// A mini debugger: the parent puts an int3 at a function of its traced
// child, catches the SIGTRAP, puts the byte back, moves the child's rip
// back onto the function and lets it go on.
#include "kernel_common.h"
#include <sys/ptrace.h>
#include <sys/user.h>

__attribute__((noinline)) static int target(int x) {
  printf("target(%d) runs\n", x);
  return x * 2;
}

int main(void) {
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
    raise(SIGSTOP);
    int r = target(21);
    printf("child got %d\n", r);
    _exit(0);
  }
  int status;
  CHECK(waitpid(child, &status, 0) == child);
  CHECK(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
  unsigned long addr = (unsigned long)target;
  errno = 0;
  long original = ptrace(PTRACE_PEEKTEXT, child, (void*)addr, 0);
  CHECK(errno == 0);
  long patched = (original & ~0xffL) | 0xcc;
  CHECK(ptrace(PTRACE_POKETEXT, child, (void*)addr, (void*)patched) == 0);
  CHECK(ptrace(PTRACE_CONT, child, 0, 0) == 0);
  CHECK(waitpid(child, &status, 0) == child);
  CHECK(WIFSTOPPED(status));
  struct user_regs_struct regs;
  CHECK(ptrace(PTRACE_GETREGS, child, 0, &regs) == 0);
  printf("stopped by %s at target+%lld\n", strsignal(WSTOPSIG(status)), (long long)(regs.rip - addr));
  printf("first argument %llu\n", regs.rdi);
  CHECK(ptrace(PTRACE_POKETEXT, child, (void*)addr, (void*)original) == 0);
  regs.rip = addr;
  regs.rdi = 50;  // and a different argument
  CHECK(ptrace(PTRACE_SETREGS, child, 0, &regs) == 0);
  CHECK(ptrace(PTRACE_CONT, child, 0, 0) == 0);
  CHECK(waitpid(child, &status, 0) == child);
  printf("child exited with %d\n", WEXITSTATUS(status));
  return 0;
}
