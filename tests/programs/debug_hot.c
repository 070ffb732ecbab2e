/* A hot loop without syscalls, its body on its own line, for breakpoints
 * deep inside it. Built -O0. */
#include <stdio.h>

long total;

int main(void) {
  for (long i = 0; i < 300000; ++i) {
    total += i % 7;
  }
  printf("%ld\n", total);
  return 0;
}
