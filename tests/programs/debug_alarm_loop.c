// A timer interrupts a loop whose registers come back the same every round
// (its counters live in memory, -O0): each handler notes how far the loop
// had got, and the program prints the second note.
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>

volatile int ticks;
volatile long work;
long work_at_tick[64];

static void on_alarm(int sig) {
  (void)sig;
  work_at_tick[ticks] = work;
  ticks++;
}

int main(void) {
  signal(SIGALRM, on_alarm);
  struct itimerval every = {{0, 2000}, {0, 2000}};
  setitimer(ITIMER_REAL, &every, 0);
  while (ticks < 20) work++;
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, 0);
  printf("work at tick 1: %ld\n", work_at_tick[1]);
  return 0;
}
