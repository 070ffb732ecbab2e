/* rdrand and rdseed in 16, 32 and 64 bits, into low and high registers. */
#include <cpuid.h>
#include <stdint.h>

#include "util.h"

int main(void) {
  require_rdrand();
  uint64_t r64 = 0;
  uint32_t r32 = 0;
  uint16_t r16 = 0;
  unsigned char ok64, ok32, ok16;
  __asm__ volatile("rdrand %0; setc %1" : "=r"(r64), "=qm"(ok64) : : "cc");
  __asm__ volatile("rdrand %0; setc %1" : "=r"(r32), "=qm"(ok32) : : "cc");
  __asm__ volatile("rdrand %0; setc %1" : "=r"(r16), "=qm"(ok16) : : "cc");
  uint64_t high = 0;
  __asm__ volatile("rdrand %%r13; mov %%r13, %0" : "=r"(high) : : "r13", "cc");
  printf("rdrand %016llx %08x %04x %016llx ok %d%d%d\n", (unsigned long long)r64, r32, r16,
         (unsigned long long)high, ok64, ok32, ok16);
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx);
  if (ebx & bit_RDSEED) {
    uint64_t seed = 0;
    __asm__ volatile("rdseed %0" : "=r"(seed) : : "cc");
    printf("rdseed %016llx\n", (unsigned long long)seed);
  }
  return 0;
}
