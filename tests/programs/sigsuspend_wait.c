/* Blocks SIGALRM and takes it only inside sigsuspend, under another mask. */
#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include "util.h"

static volatile sig_atomic_t ticks;
static void on_alarm(int sig) {
  (void)sig;
  ++ticks;
}

int main(void) {
  on_signal(SIGALRM, on_alarm, NULL);
  sigset_t blocked, waiting;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGALRM);
  sigprocmask(SIG_BLOCK, &blocked, &waiting);
  sigdelset(&waiting, SIGALRM);
  struct itimerval timer = {{0, 1000}, {0, 1000}};
  CHECK(setitimer(ITIMER_REAL, &timer, NULL) == 0);
  int waits = 0;
  while (ticks < 5) {
    sigsuspend(&waiting);
    ++waits;
  }
  printf("%d ticks in %d waits\n", (int)ticks, waits);
  return 0;
}
