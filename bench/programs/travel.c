/* The time-travel benchmark's subject: ROUNDS rounds, each some arithmetic
 * and one syscall (an event), and a `milestone` that changes every PERIOD
 * rounds, for watchpoints at known distances. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

long milestone;
unsigned long checksum;

__attribute__((noinline)) unsigned long work(unsigned long seed) {
  for (int k = 0; k < 200; ++k) seed = seed * 6364136223846793005ul + 1442695040888963407ul;
  return seed;
}

int main(int argc, char** argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 120000;
  long period = argc > 2 ? atol(argv[2]) : 1000;
  for (long i = 1; i <= rounds; ++i) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    checksum ^= work(checksum + (unsigned long)ts.tv_nsec);
    if (i % period == 0) ++milestone;
  }
  printf("%lu %ld\n", checksum, milestone);
  return 0;
}
