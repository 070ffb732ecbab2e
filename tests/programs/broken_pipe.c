/* Writes to a pipe nobody reads: EPIPE, and SIGPIPE, raised by the write
 * itself, kills the program right after it (nothing after it runs). */
#include <errno.h>
#include <unistd.h>

#include "util.h"

int main(void) {
  int fds[2];
  CHECK(pipe(fds) == 0);
  close(fds[0]);
  signal(SIGPIPE, SIG_IGN);
  errno = 0;
  long n = write(fds[1], "lost", 4);
  printf("ignored: write = %ld, %s\n", n, errno == EPIPE ? "EPIPE" : "?");
  fflush(stdout);
  signal(SIGPIPE, SIG_DFL);
  n = write(fds[1], "lost", 4);
  printf("still running after the write (%ld)\n", n);
  return 0;
}
