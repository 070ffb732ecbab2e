/* rdtsc and rdtscp, which PR_SET_TSC makes fault under ttdb. */
#include <x86intrin.h>

#include "util.h"

int main(void) {
  unsigned long long a = __rdtsc();
  unsigned aux = 0;
  unsigned long long b = __rdtscp(&aux);
  printf("rdtsc %llx\nrdtscp %llx aux %u\n", a, b, aux);
  CHECK(b > a);
  return 0;
}
