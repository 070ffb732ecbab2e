// A program that single-steps its child with ptrace: the child stops at an
// int3 before a loop; the parent steps it a number of instructions and
// prints where it is, relative to the loop's function.
#include "kernel_common.h"
#include <sys/ptrace.h>
#include <sys/user.h>

__attribute__((noinline)) static long spin(long n) {
  volatile long sum = 0;
  for (long i = 0; i < n; ++i) sum += i;
  return sum;
}

int main(void) {
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
    __asm__ volatile("int3");
    long sum = spin(1000);
    printf("child sum %ld\n", sum);
    _exit(0);
  }
  int status;
  CHECK(waitpid(child, &status, 0) == child);
  CHECK(WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP);
  struct user_regs_struct regs;
  CHECK(ptrace(PTRACE_GETREGS, child, 0, &regs) == 0);
  unsigned long long start = regs.rip;
  int steps = 0, in_spin = 0;
  for (; steps < 300; ++steps) {
    CHECK(ptrace(PTRACE_SINGLESTEP, child, 0, 0) == 0);
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP);
    CHECK(ptrace(PTRACE_GETREGS, child, 0, &regs) == 0);
    if (regs.rip >= (unsigned long long)spin && regs.rip < (unsigned long long)spin + 256) ++in_spin;
  }
  siginfo_t info;
  CHECK(ptrace(PTRACE_GETSIGINFO, child, 0, &info) == 0);
  printf("stepped %d instructions from main+%lld, %d of them in spin; si_code %d\n", steps,
         (long long)(start - (unsigned long long)main), in_spin, info.si_code);
  printf("now at spin+%lld\n", (long long)(regs.rip - (unsigned long long)spin));
  CHECK(ptrace(PTRACE_CONT, child, 0, 0) == 0);
  CHECK(waitpid(child, &status, 0) == child);
  printf("child exited with %d\n", WEXITSTATUS(status));
  return 0;
}
