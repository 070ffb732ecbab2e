/* Prints a line every few milliseconds until it is killed (or N lines). */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int main(int argc, char** argv) {
  long limit = argc > 1 ? atol(argv[1]) : 1000000;
  printf("ready %d\n", getpid());
  fflush(stdout);
  for (long i = 0; i < limit; ++i) {
    struct timespec nap = {0, 5000000};
    nanosleep(&nap, NULL);
    printf("line %ld\n", i);
    fflush(stdout);
  }
  return 0;
}
