/* Prints "line N" every INTERVAL microseconds (default 1000), COUNT times. */
#include <stdlib.h>
#include <time.h>

#include "util.h"

int main(int argc, char** argv) {
  long count = argc > 1 ? atol(argv[1]) : 3000;
  long interval_us = argc > 2 ? atol(argv[2]) : 1000;
  for (long i = 0; i < count; ++i) {
    printf("line %ld\n", i);
    fflush(stdout);
    struct timespec nap = {0, interval_us * 1000};
    nanosleep(&nap, NULL);
  }
  return 0;
}
