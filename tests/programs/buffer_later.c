/* Calls the syscall buffer makes without a stop, N of them (argument 1),
 * in one thread or ("thread") in a second one too, started before the
 * first call: the recorder gives a program the buffer only once it has
 * made enough such calls, and a program about to have threads gets it
 * before the thread exists. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

static long calls;

static void* make_calls(void* arg) {
  long sum = 0;
  for (long i = 0; i < calls; ++i) sum += syscall(SYS_getppid) > 0;
  *(long*)arg = sum;
  return NULL;
}

int main(int argc, char** argv) {
  calls = argc > 1 ? atol(argv[1]) : 200;
  long mine = 0, theirs = 0;
  pthread_t other;
  int threaded = argc > 2 && strcmp(argv[2], "thread") == 0;
  if (threaded) CHECK(pthread_create(&other, NULL, make_calls, &theirs) == 0);
  make_calls(&mine);
  if (threaded) CHECK(pthread_join(other, NULL) == 0);
  printf("%ld calls answered, %ld in the other thread\n", mine, theirs);
  return 0;
}
