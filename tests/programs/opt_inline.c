// Inlined functions in optimized code (built -O2): square is inlined twice
// (once inside sum_squares, itself inlined into compute, and once into
// main) and never exists out of line; gdb shows each inlined call as a
// frame of its own.
#include <stdio.h>
#include <stdlib.h>

static int total;

static inline int square(int x) {
  int y = x * x;
  total += y;
  return y;
}

static inline int sum_squares(int n) {
  int s = 0;
  for (int i = 1; i <= n; ++i)
    s += square(i);
  return s;
}

__attribute__((noinline)) int compute(int n) {
  int r = sum_squares(n);
  printf("compute %d -> %d\n", n, r);
  return r + total;
}

int main(int argc, char** argv) {
  int n = argc > 5 ? atoi(argv[1]) : 4;
  int a = compute(n);
  int b = square(a);
  printf("%d %d\n", a, b);
  return 0;
}
