// Output that reaches stdout without passing through the program's memory
// (sendfile, copy_file_range, splice and vmsplice) and a child `cat`, which
// copies with copy_file_range: replay must re-emit all of it.
#include "kernel_common.h"

#include <sys/sendfile.h>
#include <sys/uio.h>

static int file_with(const char* path, const char* text) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  CHECK(fd >= 0);
  CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
  CHECK(lseek(fd, 0, SEEK_SET) == 0);
  return fd;
}

int main(void) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/ttdb-moved-%d", getpid());
  printf("start\n");
  int fd = file_with(path, "one via sendfile\n");
  CHECK(sendfile(1, fd, NULL, 64) == 17);
  off_t from = 4;  // with an offset of its own: "via..." only
  CHECK(sendfile(1, fd, &from, 64) == 13 && from == 17);
  close(fd);
  fd = file_with(path, "two via copy_file_range\n");
  ssize_t n = copy_file_range(fd, NULL, 1, NULL, 64, 0);
  // stdout may be a pipe, where copy_file_range is refused: then splice.
  if (n < 0) n = splice(fd, NULL, 1, NULL, 64, 0);
  CHECK(n == 24);
  close(fd);
  fd = file_with(path, "three via splice\n");
  loff_t at = 0;
  n = splice(fd, &at, 1, NULL, 64, 0);
  if (n < 0) n = sendfile(1, fd, NULL, 64);  // stdout a file: splice needs a pipe at one end
  CHECK(n == 17);
  close(fd);
  struct iovec iov[2] = {{"four via ", 9}, {"vmsplice\n", 9}};
  n = vmsplice(1, iov, 2, 0);
  if (n < 0) n = writev(1, iov, 2);  // stdout not a pipe
  CHECK(n == 18);
  fd = file_with(path, "five via cat\n");
  close(fd);
  pid_t child = fork();
  if (child == 0) {
    execl("/bin/cat", "cat", path, (char*)NULL);
    _exit(127);
  }
  CHECK(child_status(child) == 0);
  unlink(path);
  printf("end\n");
  return 0;
}
