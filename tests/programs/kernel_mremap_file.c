// Kernel corner (tests/e2e/kernel_test.cc): file mappings made longer with
// mremap show more of their file, shared or private; shrunk and grown
// again, they show it again.
#include "kernel_common.h"

int main(void) {
  char path[] = "/tmp/ttdb-mremap-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  unlink(path);
  long page = sysconf(_SC_PAGESIZE);
  CHECK(ftruncate(fd, 3 * page) == 0);
  CHECK(pwrite(fd, "second", 6, page) == 6 && pwrite(fd, "third", 5, 2 * page) == 5);
  for (int shared = 0; shared < 2; ++shared) {
    char* p = mmap(NULL, page, PROT_READ, shared ? MAP_SHARED : MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED);
    char* q = mremap(p, page, 2 * page, MREMAP_MAYMOVE);
    CHECK(q != MAP_FAILED);
    printf("%s, grown: %.6s\n", shared ? "shared" : "private", q + page);
    q = mremap(q, 2 * page, page, 0);
    CHECK(q != MAP_FAILED);
    char* r = mremap(q, page, 3 * page, MREMAP_MAYMOVE);
    CHECK(r != MAP_FAILED);
    printf("%s, shrunk and grown: %.6s %.5s\n", shared ? "shared" : "private", r + page, r + 2 * page);
    CHECK(munmap(r, 3 * page) == 0);
  }
  return 0;
}
