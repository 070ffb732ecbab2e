/* The same write (libc's, one syscall site) made both ways under the
 * syscall buffer: small writes to a pipe, which the shim makes, and every
 * fifth one larger than PIPE_BUF, which it leaves to the traced path (a pipe
 * may take only part of it without waiting). */
#include <unistd.h>

#include "util.h"

static void read_all(int fd, char* buffer, size_t size) {
  while (size > 0) {
    ssize_t n = read(fd, buffer, size);
    CHECK(n > 0);
    buffer += n;
    size -= (size_t)n;
  }
}

int main(void) {
  int fds[2];
  CHECK(pipe(fds) == 0);
  static char buffer[5000];
  unsigned long sum = 0;
  for (int i = 0; i < 400; ++i) {
    size_t n = i % 5 == 4 ? sizeof buffer : 16;
    buffer[i % 16] = (char)i;
    CHECK(write(fds[1], buffer, n) == (ssize_t)n);
    read_all(fds[0], buffer, n);
    sum += (unsigned char)buffer[i % 16] * (unsigned long)n;
  }
  printf("sum %lu\n", sum);
  return 0;
}
