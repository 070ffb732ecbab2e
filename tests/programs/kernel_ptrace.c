// Kernel corner (tests/e2e/kernel_test.cc): a program that traces its child,
// which it cannot do under ttdb (ptrace allows one tracer).
#include "kernel_common.h"
#include <sys/ptrace.h>

int main(void) {
  printf("before\n");
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    raise(SIGSTOP);
    _exit(0);
  }
  long r = ptrace(PTRACE_SEIZE, child, 0, 0);
  printf("seize %ld\n", r);
  kill(child, SIGCONT);
  return child_status(child);
}
