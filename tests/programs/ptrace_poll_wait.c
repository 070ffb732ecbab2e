// A tracer that polls for its tracee's stops with WNOHANG, as an event loop
// does: only a tracer sees a ptrace stop, so under ttdb, the tracer only
// ttdb emulates, the answer must be ttdb's and not the kernel's (which would
// say "nothing yet" for ever), even where the syscall buffer makes the
// waits that cannot block.
#include "kernel_common.h"
#include <sys/ptrace.h>

// Polls until the child has something to report; 0 after five seconds.
static pid_t poll_wait(pid_t child, int* status) {
  for (int polls = 0; polls < 5000; ++polls) {
    pid_t got = waitpid(child, status, WNOHANG);
    if (got != 0) return got;
    usleep(1000);
  }
  return 0;
}

int main(void) {
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
    raise(SIGSTOP);
    _exit(3);
  }
  int status;
  pid_t got = poll_wait(child, &status);
  if (got != child) {
    printf("the tracee's stop never came (%d)\n", got);
    kill(child, SIGKILL);
    return 1;
  }
  describe_wait("polled", status);
  CHECK(ptrace(PTRACE_CONT, child, 0, 0) == 0);
  CHECK(poll_wait(child, &status) == child);
  describe_wait("polled again", status);
  printf("nothing more: %d\n", waitpid(child, &status, WNOHANG) == -1 && errno == ECHILD);
  return 0;
}
