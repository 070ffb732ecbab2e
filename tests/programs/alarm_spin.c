/* Waits for SIGALRM in a loop that makes no syscall: the signal cannot wait
 * for a syscall boundary, and where it lands decides the output. With an
 * argument, it reads the clock right before the loop (a syscall the syscall
 * buffer makes, with no stop). */
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "util.h"

static volatile sig_atomic_t fired;
static volatile unsigned long spins;
static unsigned long spins_at_signal;

static void on_alarm(int sig) {
  (void)sig;
  spins_at_signal = spins;
  fired = 1;
}

int main(int argc, char** argv) {
  (void)argv;
  on_signal(SIGALRM, on_alarm, NULL);
  struct itimerval timer = {{0, 0}, {0, 20000}};
  CHECK(setitimer(ITIMER_REAL, &timer, NULL) == 0);
  if (argc > 1) {
    struct timespec now;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &now) == 0);
  }
  while (!fired) ++spins;
  printf("signal after %lu spins; loop left after %lu\n", spins_at_signal, spins);
  return 0;
}
