// Kernel corner (tests/e2e/kernel_test.cc): a tracer seizes a child that
// stopped itself, interrupts it and sends SIGCONT, as strace starts its
// program. The tracer sees the stop first (SIGSTOP, PTRACE_EVENT_STOP),
// its PTRACE_LISTEN ends at once (the SIGCONT came), and the child runs
// only when let go. Twice: SIGCONT at once, and after the interrupt's trap.
#include "kernel_common.h"
#include <sys/ptrace.h>

static void seize_stopped_child(int pause_us) {
  pid_t child = fork();
  if (child == 0) {
    raise(SIGSTOP);
    printf("the child runs\n");
    _exit(3);
  }
  int status;
  CHECK(waitpid(child, &status, WSTOPPED) == child);
  describe_wait("stopped itself", status);
  CHECK(ptrace(PTRACE_SEIZE, child, 0, 0) == 0);
  CHECK(ptrace(PTRACE_INTERRUPT, child, 0, 0) == 0);
  if (pause_us) usleep(pause_us);
  CHECK(kill(child, SIGCONT) == 0);
  CHECK(waitpid(child, &status, __WALL) == child);
  describe_wait("seized", status);
  CHECK(ptrace(PTRACE_LISTEN, child, 0, 0) == 0);
  CHECK(waitpid(child, &status, __WALL) == child);
  describe_wait("listened", status);
  CHECK(ptrace(PTRACE_CONT, child, 0, 0) == 0);
  CHECK(waitpid(child, &status, __WALL) == child);
  describe_wait("let go", status);
  CHECK(ptrace(PTRACE_CONT, child, 0, WIFSTOPPED(status) ? WSTOPSIG(status) : 0) == 0);
  CHECK(waitpid(child, &status, __WALL) == child);
  describe_wait("at its end", status);
}

int main(void) {
  seize_stopped_child(0);
  seize_stopped_child(20000);
  return 0;
}
