// A program that makes a ptrace request ttdb does not emulate (an option,
// PTRACE_O_TRACESECCOMP): the recording stops there, naming it.
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
  long r = ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACESECCOMP);
  printf("setoptions %ld\n", r);
  CHECK(ptrace(PTRACE_CONT, child, 0, 0) == 0);
  return child_status(child) == 0 ? 0 : 1;
}
