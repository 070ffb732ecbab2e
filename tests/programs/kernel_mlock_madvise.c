// Kernel corner (tests/e2e/kernel_test.cc): mlock_madvise.
#include "kernel_common.h"
int main(){
  size_t sz = 4*4096; char *p = mmap(0, sz, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
  int r = mlock(p, sz); RET("mlock", r); memset(p, 7, sz);
  r = madvise(p, sz, MADV_DONTNEED); RET("madvise dontneed locked", r); printf("after: %d\n", p[0]);
  unsigned char vec[4]; r = mincore(p, sz, vec); RET("mincore", r); printf("resident0=%d\n", vec[0]&1);
  r = munlock(p, sz); RET("munlock", r); r = mlock2(p, sz, MLOCK_ONFAULT); RET("mlock2", r);
  return 0; }
