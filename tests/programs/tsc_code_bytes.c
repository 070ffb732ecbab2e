/* Reads its own code where an rdtsc is: under ttdb the recording's bytes
 * there hold the int3 its scan put on the instruction, and replay's must
 * hold the same, or the sum replayed differs from the sum printed. */
#include <x86intrin.h>

#include "util.h"

static unsigned long long __attribute__((noinline)) stamp(void) { return __rdtsc(); }

static unsigned __attribute__((noinline)) code_sum(const unsigned char* code, int n) {
  unsigned sum = 0;
  for (int i = 0; i < n; ++i) sum = sum * 31 + code[i];
  return sum;
}

unsigned sum;

void __attribute__((noinline)) report(void) { printf("code sum %u\n", sum); }

int main(void) {
  /* Its first 24 bytes hold the rdtsc, and none of report's, where the
   * test's breakpoint goes (which the program would read too, as under gdb). */
  sum = code_sum((const unsigned char*)stamp, 24);
  printf("stamp %llx\n", stamp());
  report();
  return 0;
}
