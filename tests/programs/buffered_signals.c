/* A fast SIGALRM timer over a loop of syscalls the syscall buffer makes
 * itself: ticks land inside the buffer's code as well as in the program's,
 * at steps that differ from run to run. */
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static volatile sig_atomic_t ticks;
static volatile long at_step[64];
static volatile long step;

static void on_alarm(int sig) {
  (void)sig;
  if (ticks < 64) at_step[ticks] = step;
  ++ticks;
}

int main(void) {
  on_signal(SIGALRM, on_alarm, NULL);
  struct itimerval timer = {{0, 500}, {0, 500}};
  CHECK(setitimer(ITIMER_REAL, &timer, NULL) == 0);
  long long clock_bits = 0;
  for (step = 0; ticks < 30; ++step) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    clock_bits += ts.tv_nsec & 0xff;
    clock_bits += getppid() & 1;
  }
  timer.it_value.tv_usec = 0;
  timer.it_interval.tv_usec = 0;
  setitimer(ITIMER_REAL, &timer, NULL);
  printf("%d ticks over %ld steps, clocks %lld:", (int)ticks, step, clock_bits);
  for (int i = 0; i < 30; ++i) printf(" %ld", at_step[i]);
  printf("\n");
  return 0;
}
