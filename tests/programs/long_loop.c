/* A loop of millions of rounds without a syscall (200 million by default);
 * three quarters of the way through it writes `marker` once, for a
 * watchpoint deep inside the stretch. */
#include <stdio.h>
#include <stdlib.h>

volatile long marker;

static long mix(long sum, long i) { return sum + (i ^ (sum >> 3)); }

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 200000000;
  long mark = rounds / 4 * 3;
  long sum = 0;
  printf("rounds %ld\n", rounds);
  for (long i = 0; i < rounds; i++) {
    sum = mix(sum, i);
    if (i == mark) marker = sum;
  }
  printf("sum %ld marker %ld\n", sum, marker);
  return 0;
}
