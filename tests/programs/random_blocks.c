/* Reads N blocks of 32 KiB from /dev/urandom, a couple of milliseconds
 * apart, and prints a numbered line for each: a trace that grows fast. */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int main(int argc, char** argv) {
  long blocks = argc > 1 ? atol(argv[1]) : 400;
  static unsigned char buffer[32 << 10];
  int fd = open("/dev/urandom", O_RDONLY);
  CHECK(fd >= 0);
  for (long i = 0; i < blocks; ++i) {
    CHECK(read(fd, buffer, sizeof buffer) == (ssize_t)sizeof buffer);
    printf("block %ld %02x\n", i, buffer[0]);
    fflush(stdout);
    struct timespec nap = {0, 2000000};
    nanosleep(&nap, NULL);
  }
  return 0;
}
