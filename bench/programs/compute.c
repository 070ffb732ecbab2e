/* Computation only: a few syscalls at start and end. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 300000000;
  unsigned long long x = 88172645463325252ull;
  for (long i = 0; i < rounds; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  printf("%llu\n", x);
  return 0;
}
