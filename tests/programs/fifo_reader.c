/* Reads a FIFO whose writer sends its lines with pauses between: reads that
 * find nothing yet must wait, which the syscall buffer leaves to the traced
 * path. */
#include <fcntl.h>
#include <unistd.h>

#include "util.h"

int main(int argc, char** argv) {
  CHECK(argc == 2);
  int fd = open(argv[1], O_RDONLY);
  CHECK(fd >= 0);
  char buffer[256];
  long n;
  int reads = 0;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) {
    ++reads;
    printf("got %ld: %.*s", n, (int)n, buffer);
  }
  printf("end after %d reads\n", reads);
  return 0;
}
