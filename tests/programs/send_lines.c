/* Copies the file named by argv[1] to stdout with sendfile, six bytes at a
 * time, the file's own offset moving on; exits with how many calls copied
 * something. */
#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "util.h"

static volatile int seen;
__attribute__((noinline)) static void copied(int calls) { seen = calls; }

int main(int argc, char** argv) {
  CHECK(argc == 2);
  int fd = open(argv[1], O_RDONLY);
  CHECK(fd >= 0);
  int calls = 0;
  while (sendfile(STDOUT_FILENO, fd, NULL, 6) > 0) copied(++calls);
  return calls;
}
