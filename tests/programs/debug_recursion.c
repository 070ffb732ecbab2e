// A function that calls itself: the return address of each inner call is
// inside the function too.
#include <stdio.h>

int fact(int n) {
  if (n <= 1)
    return 1;
  return n * fact(n - 1);
}

int main(void) {
  int a = fact(5);
  printf("%d\n", a);
  return 0;
}
