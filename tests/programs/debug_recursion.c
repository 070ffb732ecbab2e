// Functions that call themselves: the return address of each inner call
// is inside the function too; fib is all on one line.
#include <stdio.h>

int fact(int n) {
  if (n <= 1)
    return 1;
  return n * fact(n - 1);
}

int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(void) {
  int a = fact(5);
  int b = fib(5);
  printf("%d %d\n", a, b);
  return 0;
}
