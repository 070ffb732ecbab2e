/* rdtsc in a loop inside a shared library (lib/ticks.c): ttdb gives the
 * loop's reads an int3, and patches them into the syscall buffer's
 * trampolines at one of them, once the program has made enough. */
#include <stdio.h>
#include <stdlib.h>

unsigned long tick_deltas(long rounds);

int main(int argc, char** argv) {
  printf("%lu\n", tick_deltas(argc > 1 ? atol(argv[1]) : 2000));
  return 0;
}
