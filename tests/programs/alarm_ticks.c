/* A setitimer SIGALRM that interrupts work made of syscalls: how many ticks
 * land, and after which step, differs from run to run. */
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static volatile sig_atomic_t ticks;
static volatile int at_step[64];

static volatile int step;
static void on_alarm(int sig) {
  (void)sig;
  if (ticks < 64) at_step[ticks] = step;
  ++ticks;
}

int main(void) {
  on_signal(SIGALRM, on_alarm, NULL);
  struct itimerval timer = {{0, 2000}, {0, 2000}};
  CHECK(setitimer(ITIMER_REAL, &timer, NULL) == 0);
  for (step = 0; ticks < 20; ++step) {
    struct timespec nap = {0, 100000};
    nanosleep(&nap, NULL);
  }
  timer.it_value.tv_usec = 0;
  timer.it_interval.tv_usec = 0;
  setitimer(ITIMER_REAL, &timer, NULL);
  printf("%d ticks over %d steps:", (int)ticks, step);
  for (int i = 0; i < 20; ++i) printf(" %d", at_step[i]);
  printf("\n");
  return 0;
}
