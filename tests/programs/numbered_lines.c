/* Prints "line N" every INTERVAL microseconds (default 1000), COUNT times
 * (default 3000), reading KIB kibibytes of /dev/urandom (default 0) before
 * each line: with KIB, a recording that keeps its writer busy. */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int main(int argc, char** argv) {
  long count = argc > 1 ? atol(argv[1]) : 3000;
  long interval_us = argc > 2 ? atol(argv[2]) : 1000;
  size_t size = argc > 3 ? (size_t)atol(argv[3]) << 10 : 0;
  unsigned char* buffer = size ? malloc(size) : NULL;
  int fd = size ? open("/dev/urandom", O_RDONLY) : -1;
  CHECK(!size || (buffer && fd >= 0));
  for (long i = 0; i < count; ++i) {
    for (size_t got = 0; got < size;) {
      ssize_t n = read(fd, buffer + got, size - got);
      CHECK(n > 0);
      got += (size_t)n;
    }
    printf("line %ld\n", i);
    fflush(stdout);
    struct timespec nap = {0, interval_us * 1000};
    nanosleep(&nap, NULL);
  }
  return 0;
}
