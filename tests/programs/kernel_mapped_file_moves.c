// Kernel corner (tests/e2e/kernel_test.cc): a file the program maps shared
// is changed by calls that move bytes into it without passing them through
// memory (splice, copy_file_range, sendfile) and cut by an open with
// O_TRUNC; the mapping shows each change.
#include "kernel_common.h"
#include <sys/sendfile.h>

int main(void) {
  char path[] = "/tmp/ttdb-mapped-moves-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  long page = sysconf(_SC_PAGESIZE);
  CHECK(ftruncate(fd, page) == 0);
  volatile char* view = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
  CHECK(view != MAP_FAILED);

  int pipe_fds[2];
  CHECK(pipe(pipe_fds) == 0);
  CHECK(write(pipe_fds[1], "spliced", 7) == 7);
  loff_t at = 0;
  CHECK(splice(pipe_fds[0], NULL, fd, &at, 7, 0) == 7);
  printf("after splice: %.7s (offset now %lld)\n", (const char*)view, (long long)at);

  char source_path[] = "/tmp/ttdb-mapped-source-XXXXXX";
  int source = mkstemp(source_path);
  CHECK(source >= 0 && write(source, "copied sent", 11) == 11);
  loff_t from = 0, to = 16;
  CHECK(copy_file_range(source, &from, fd, &to, 6, 0) == 6);
  printf("after copy_file_range: %.6s\n", (const char*)view + 16);
  CHECK(lseek(fd, 32, SEEK_SET) == 32);
  off_t send_from = 7;
  CHECK(sendfile(fd, source, &send_from, 4) == 4);
  printf("after sendfile: %.4s\n", (const char*)view + 32);

  int again = open(path, O_RDWR | O_TRUNC);
  CHECK(again >= 0 && ftruncate(again, page) == 0);
  printf("after O_TRUNC and growing again: %d %d %d\n", view[0], view[16], view[32]);
  unlink(path);
  unlink(source_path);
  return 0;
}
