/* Threads that read the clock (through the vDSO's code, which the syscall
 * buffer calls from inside a call of its own), with some arithmetic between
 * reads: preempted now and then while in the vDSO's code, where ttdb must
 * wait for the call to end.
 * Usage: threads_clock_reads [READS]: each of two threads makes READS reads. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long reads = 100000;
static unsigned long checksum;

static void* run(void* arg) {
  unsigned long mix = (unsigned long)arg;
  for (long i = 0; i < reads; ++i) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    for (int k = 0; k < 200; ++k) mix = mix * 6364136223846793005ul + (unsigned long)ts.tv_nsec;
  }
  __atomic_fetch_xor(&checksum, mix, __ATOMIC_RELAXED);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc > 1) reads = atol(argv[1]);
  pthread_t ids[2];
  for (long t = 0; t < 2; ++t) pthread_create(&ids[t], NULL, run, (void*)t);
  for (int t = 0; t < 2; ++t) pthread_join(ids[t], NULL);
  printf("%d\n", checksum != 0);
  return 0;
}
