// Kernel corner (tests/e2e/kernel_test.cc): proc_self_mem_code.
#include "kernel_common.h"
__attribute__((noinline)) int f(void){ return 11; }
int main(){
  unsigned char *code = mmap(0, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
  int fd = open("/proc/self/mem", O_RDWR); CHECK(fd>=0);
  unsigned char c[] = {0xb8, 42,0,0,0, 0xc3};
  ssize_t n = pwrite(fd, c, sizeof c, (off_t)(uintptr_t)code); RET("pwrite /proc/self/mem", n);
  int r = ((int(*)(void))code)(); printf("code via /proc/self/mem returned %d\n", r);
  unsigned char d[] = {0xb8, 77,0,0,0, 0xc3}; n = pwrite(fd, d, sizeof d, (off_t)(uintptr_t)code);
  printf("second: %d\n", ((int(*)(void))code)());
  char buf[8]; n = pread(fd, buf, 6, (off_t)(uintptr_t)code); printf("pread back %zd first=%x\n", n, (unsigned char)buf[0]);
  return r==42?0:1; }
