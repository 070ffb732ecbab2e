/* Maps memory at an address it chose itself, with MAP_FIXED: `buffer` is
 * where ttdb keeps its syscall buffer (found as any program could find it,
 * at whatever address this recording chose), else an address. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "find_shim.h"
#include "util.h"

int main(int argc, char** argv) {
  CHECK(argc > 1);
  unsigned long where;
  if (strcmp(argv[1], "buffer") == 0) {
    struct found_shim shim;
    CHECK(find_shim(&shim));
    where = shim.base;
    printf("mapping over the syscall buffer\n");
  } else {
    where = strtoul(argv[1], NULL, 0);
    printf("mapping at %#lx\n", where);
  }
  fflush(stdout);
  void* p = mmap((void*)where, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  CHECK(p == (void*)where);
  printf("mapped\n");
  return 0;
}
