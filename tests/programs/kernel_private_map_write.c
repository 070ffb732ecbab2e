// Kernel corner (tests/e2e/kernel_test.cc): a program maps its data file
// private from a descriptor it also writes through. The kernel shows each
// write() in the pages of the mapping the program has not written yet; a
// page it wrote keeps its own bytes until MADV_DONTNEED reads the file again.
#include "kernel_common.h"
#include <sys/uio.h>

int main(void) {
  char path[] = "/tmp/ttdb-private-write-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  unlink(path);
  char block[3 * 4096];
  memset(block, 'a', sizeof block);
  CHECK(write(fd, block, sizeof block) == (ssize_t)sizeof block);
  char* p = mmap(NULL, sizeof block, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  CHECK(p != MAP_FAILED);
  printf("mapped: %c %c %c\n", p[0], p[4096], p[8192]);
  p[0] = 'z';  // the first page is the program's own from here
  CHECK(pwrite(fd, "bb", 2, 0) == 2);
  CHECK(pwrite(fd, "cc", 2, 4096) == 2);
  CHECK(lseek(fd, 8190, SEEK_SET) == 8190);
  CHECK(write(fd, "dddd", 4) == 4);  // across the second and third pages
  struct iovec parts[2] = {{"e", 1}, {"f", 1}};
  CHECK(pwritev(fd, parts, 2, 4098) == 2);
  printf("after writes: %c%c %c%c%c%c %c%c %c\n", p[0], p[1], p[4096], p[4097], p[4098], p[4099], p[8190], p[8192],
         p[8194]);
  CHECK(madvise(p, 4096, MADV_DONTNEED) == 0);
  printf("after MADV_DONTNEED: %c%c\n", p[0], p[1]);
  CHECK(p[0] == 'b' && p[4096] == 'c' && p[4098] == 'e' && p[8192] == 'd');
  return 0;
}
