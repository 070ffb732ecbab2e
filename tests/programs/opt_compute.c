// Optimized code (built -O2) for the shell: a function without a frame
// pointer whose loop follows its first instruction, an argument gdb shows
// as n=n@entry=20, locals in registers or nowhere, and a caller whose
// arguments are gone once it made its calls.
#include <stdio.h>
#include <stdlib.h>

static int helper(int x) { return x * 3 + 1; }

__attribute__((noinline)) long compute(int n) {
  long total = 0;
  for (int i = 0; i < n; i++) {
    total += helper(i) ^ (total >> 3);
  }
  return total;
}

int main(int argc, char **argv) {
  int n = argc > 5 ? atoi(argv[1]) : 20;
  long sum = 0;
  for (int round = 0; round < 3; round++) {
    sum += compute(n + round);
    printf("round %d: %ld\n", round, sum);
  }
  return (int)(sum & 1);
}
