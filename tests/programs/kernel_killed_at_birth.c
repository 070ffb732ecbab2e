// Children killed before they run a single instruction (SIGKILL right
// after the fork), with SIGCHLD blocked and then handled: the recording
// ends when the program does, and replays as recorded.
#include "kernel_common.h"

static volatile int handled;

static void on_child(int sig, siginfo_t* info, void* context) {
  (void)sig;
  (void)info;
  (void)context;
  handled++;
}

int main(void) {
  struct sigaction action = {0};
  action.sa_sigaction = on_child;
  action.sa_flags = SA_SIGINFO;
  CHECK(sigaction(SIGCHLD, &action, 0) == 0);
  sigset_t chld, old;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  for (int round = 0; round < 5; round++) {
    CHECK(sigprocmask(SIG_BLOCK, &chld, &old) == 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
      for (;;) pause();
    }
    CHECK(kill(child, SIGKILL) == 0);
    int status;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(sigprocmask(SIG_SETMASK, &old, 0) == 0);
    printf("round %d: killed by %s, SIGCHLD handled %d\n", round, strsignal(WTERMSIG(status)), handled);
  }
  return 0;
}
