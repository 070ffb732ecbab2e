// A tracer that blocks SIGCHLD and waits before its tracee stops (as gdb
// does): the wait must end when the tracee stops. Then a tracee held
// stopped is killed with kill(SIGKILL) rather than PTRACE_KILL.
#include "kernel_common.h"
#include <sys/ptrace.h>
#include <time.h>

int main(void) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  CHECK(sigprocmask(SIG_BLOCK, &chld, NULL) == 0);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    signal(SIGUSR1, SIG_IGN);
    CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);  // its parent waits meanwhile
    raise(SIGUSR1);
    printf("child goes on\n");
    _exit(2);
  }
  int status;
  CHECK(waitpid(child, &status, 0) == child);
  printf("stopped by %s while its tracer waited\n", strsignal(WSTOPSIG(status)));
  CHECK(ptrace(PTRACE_CONT, child, 0, 0) == 0);
  CHECK(waitpid(child, &status, 0) == child);
  printf("child exited with %d\n", WEXITSTATUS(status));

  child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
    raise(SIGSTOP);
    printf("not reached\n");
    _exit(0);
  }
  CHECK(waitpid(child, &status, 0) == child);
  CHECK(kill(child, SIGKILL) == 0);
  CHECK(waitpid(child, &status, 0) == child);
  printf("held tracee killed: %d, by %s\n", WIFSIGNALED(status), strsignal(WTERMSIG(status)));
  return 0;
}
