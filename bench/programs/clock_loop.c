/* A million clock_gettime calls, which natively never leave user space. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char** argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 1000000;
  long long sum = 0;
  for (long i = 0; i < rounds; ++i) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    sum += ts.tv_nsec & 1;
  }
  printf("%lld\n", sum);
  return 0;
}
