// Kernel corner (tests/e2e/kernel_test.cc): the aux vector as the program finds it, the vDSO's ELF header among it.
#include "kernel_common.h"
#include <sys/auxv.h>
#include <time.h>
int main(){
  unsigned long v = getauxval(AT_SYSINFO_EHDR); printf("vdso nonzero=%d\n", v != 0);
  if (v) { unsigned char *e = (unsigned char*)v; printf("magic=%02x %c%c%c class=%d\n", e[0], e[1], e[2], e[3], e[4]); }
  printf("pagesz=%lu hwcap_nonzero=%d\n", getauxval(AT_PAGESZ), getauxval(AT_HWCAP)!=0);
  unsigned char *rnd = (unsigned char*)getauxval(AT_RANDOM); printf("at_random[0..3]=%02x%02x%02x%02x\n", rnd[0], rnd[1], rnd[2], rnd[3]);
  struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); printf("mono_ns_mod=%ld\n", ts.tv_nsec % 1000);
  return v ? 0 : 1; }
