// A program that makes a ptrace request ttdb does not emulate
// (PTRACE_GETSIGMASK): the recording stops there, naming it.
#include "kernel_common.h"
#include <sys/ptrace.h>

int main(void) {
  printf("before\n");
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
    raise(SIGSTOP);
    _exit(0);
  }
  int status;
  CHECK(waitpid(child, &status, 0) == child);
  unsigned long long mask = 0;
  long r = ptrace(PTRACE_GETSIGMASK, child, (void*)sizeof mask, &mask);
  printf("getsigmask %ld\n", r);
  CHECK(ptrace(PTRACE_CONT, child, 0, 0) == 0);
  return child_status(child) == 0 ? 0 : 1;
}
