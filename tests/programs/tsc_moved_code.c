/* rdtsc in a file's code mapped by the program (as dlopen would), then moved
 * with mremap: wherever it runs, each read is recorded. With "spin", it
 * computes for a while before the move (no syscalls): a site search of the
 * file begun when it was mapped is done by the time the code moves. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <x86intrin.h>

#include "util.h"

__attribute__((noinline)) unsigned long long read_tsc(void) { return __rdtsc(); }

int main(int argc, char** argv) {
  printf("direct %llx\n", read_tsc());
  long at = offset_in_file((uintptr_t)read_tsc);
  CHECK(at >= 0);
  int fd = open("/proc/self/exe", O_RDONLY);
  CHECK(fd >= 0);
  long page = at & ~4095L;
  unsigned char* code = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, page);
  CHECK(code != MAP_FAILED);
  unsigned long long (*mapped)(void) = (unsigned long long (*)(void))(code + (at - page));
  printf("mapped %llx\n", mapped());
  /* Moved somewhere else, 64 MiB away. */
  unsigned char* target = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(target != MAP_FAILED);
  if (argc > 1 && strcmp(argv[1], "spin") == 0) {
    volatile unsigned long sum = 0;
    for (unsigned long i = 0; i < 100000000UL; ++i) sum += i;
  }
  unsigned char* moved = mremap(code, 8192, 8192, MREMAP_MAYMOVE | MREMAP_FIXED, target);
  CHECK(moved == target);
  unsigned long long (*there)(void) = (unsigned long long (*)(void))(moved + (at - page));
  printf("moved %llx\n", there());
  printf("direct again %llx\n", read_tsc());
  return 0;
}
