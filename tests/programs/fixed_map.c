/* Maps memory at an address it chose itself, with MAP_FIXED: at
 * 0x70000000 it is where ttdb keeps its syscall buffer. */
#include <stdlib.h>
#include <sys/mman.h>

#include "util.h"

int main(int argc, char** argv) {
  unsigned long where = argc > 1 ? strtoul(argv[1], NULL, 0) : 0x70000000;
  printf("mapping at %#lx\n", where);
  fflush(stdout);
  void* p = mmap((void*)where, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  CHECK(p == (void*)where);
  printf("mapped\n");
  return 0;
}
