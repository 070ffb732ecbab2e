/* Threads whose syscalls the syscall buffer makes (clock reads, stats, file
 * writes), racing on a counter without a lock between them: what each
 * prints depends on the clocks and on where each thread's turn ended.
 * Usage: threads_buffered DIR [ROUNDS [ADDS]]: each thread makes ROUNDS
 * rounds of three syscalls and ADDS additions. */
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

enum { kThreads = 3 };
static long rounds = 1000, adds = 30000;

static volatile long counter;
static int file;

static void* work(void* arg) {
  long id = (long)arg;
  unsigned long mix = 0;
  for (long i = 0; i < rounds; ++i) {
    struct timespec now;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &now) == 0);
    mix = mix * 31 + (unsigned long)now.tv_nsec;
    struct stat st;
    CHECK(fstat(file, &st) == 0);
    CHECK(pwrite(file, &mix, sizeof mix, (off_t)(id * sizeof mix)) == sizeof mix);
    for (long k = 0; k < adds; ++k) counter = counter + 1;
  }
  return (void*)mix;
}

int main(int argc, char** argv) {
  CHECK(argc >= 2);
  if (argc > 2) rounds = atol(argv[2]);
  if (argc > 3) adds = atol(argv[3]);
  char path[4096];
  snprintf(path, sizeof path, "%s/threads_buffered.data", argv[1]);
  file = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  CHECK(file >= 0);
  pthread_t threads[kThreads];
  for (long i = 0; i < kThreads; ++i) CHECK(pthread_create(&threads[i], NULL, work, (void*)i) == 0);
  for (int i = 0; i < kThreads; ++i) {
    void* mix;
    CHECK(pthread_join(threads[i], &mix) == 0);
    printf("thread %d: %lx\n", i, (unsigned long)mix);
  }
  printf("counter %ld of %ld\n", counter, kThreads * rounds * adds);
  return 0;
}
