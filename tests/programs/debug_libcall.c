/* Calls a function of a shared library (lib/shout.c) twice; the shell sets
 * breakpoints there before the library is loaded. Built -O0. */
#include <stdio.h>

int shout(char* text);

int main(void) {
  char first[] = "alpha", second[] = "beta";
  int a = shout(first);
  int b = shout(second);
  printf("%s %s %d\n", first, second, a + b);
  return 0;
}
