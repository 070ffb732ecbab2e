// Opens its own executable three times and says how each open went: a
// tracer that injects a fault into one of them (strace -e inject) shows.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  (void)argc;
  for (int i = 0; i < 3; i++) {
    int fd = open(argv[0], O_RDONLY);
    printf("open %d: %s\n", i, fd < 0 ? strerror(errno) : "opened");
    if (fd >= 0) close(fd);
  }
  return 0;
}
