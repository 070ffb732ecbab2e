// Kernel corner (tests/e2e/kernel_test.cc): profiling and virtual timers' signals in a loop without syscalls, where the loop passes the same instruction with the same stack pointer millions of times.
#include "kernel_common.h"
#include <sys/time.h>
static volatile int hits;
static void h(int s){ (void)s; hits++; }
int main(){
  signal(SIGPROF, h); struct itimerval it = {{0, 1000}, {0, 1000}}; setitimer(ITIMER_PROF, &it, 0);
  volatile unsigned long x = 0; while (hits < 20) x++;
  struct itimerval z = {0}, old; setitimer(ITIMER_PROF, &z, &old);
  printf("prof hits=%d loops>0=%d\n", hits, x > 0);
  signal(SIGVTALRM, h); hits = 0; struct itimerval v = {{0, 2000}, {0, 2000}}; setitimer(ITIMER_VIRTUAL, &v, 0); while (hits < 5) x++; setitimer(ITIMER_VIRTUAL, &z, 0);
  printf("virt hits=%d x_mod7=%lu\n", hits, x % 7); return 0; }
