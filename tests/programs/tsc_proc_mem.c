/* rdtsc in code written through /proc/self/mem, into memory that was
 * never writable: no mprotect or mmap says code changed there. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include <x86intrin.h>

#include "util.h"

/* rdtsc; shl $32, %rdx; or %rdx, %rax; ret */
static const unsigned char kReadTsc[] = {0x0f, 0x31, 0x48, 0xc1, 0xe2, 0x20, 0x48, 0x09, 0xd0, 0xc3};

int main(void) {
  unsigned char* code = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(code != MAP_FAILED);
  int fd = open("/proc/self/mem", O_RDWR);
  CHECK(fd >= 0);
  printf("before %llx\n", __rdtsc());
  CHECK(pwrite(fd, kReadTsc, sizeof kReadTsc, (off_t)(uintptr_t)code) == sizeof kReadTsc);
  printf("written %llx\n", ((unsigned long long (*)(void))code)());
  printf("after %llx\n", __rdtsc());
  return 0;
}
