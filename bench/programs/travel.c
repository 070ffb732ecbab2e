/* The time-travel benchmark's subject: ROUNDS rounds, each some arithmetic
 * and one syscall (an event), and a `milestone` that changes every PERIOD
 * rounds, for watchpoints at known distances. With THREADS > 1, that many
 * threads share the rounds (the main thread waits for them). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

long milestone;
unsigned long checksum;
static long rounds_left, period;

__attribute__((noinline)) unsigned long work(unsigned long seed) {
  for (int k = 0; k < 200; ++k) seed = seed * 6364136223846793005ul + 1442695040888963407ul;
  return seed;
}

static void* run(void* arg) {
  (void)arg;
  for (;;) {
    long i = __atomic_fetch_sub(&rounds_left, 1, __ATOMIC_RELAXED);
    if (i <= 0) return NULL;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    __atomic_fetch_xor(&checksum, work(checksum + (unsigned long)ts.tv_nsec), __ATOMIC_RELAXED);
    if (i % period == 0) __atomic_fetch_add(&milestone, 1, __ATOMIC_RELAXED);
  }
}

int main(int argc, char** argv) {
  rounds_left = argc > 1 ? atol(argv[1]) : 120000;
  period = argc > 2 ? atol(argv[2]) : 1000;
  int threads = argc > 3 ? atoi(argv[3]) : 1;
  if (threads <= 1) {
    run(NULL);
  } else {
    pthread_t ids[64];
    if (threads > 64) threads = 64;
    for (int t = 0; t < threads; ++t) pthread_create(&ids[t], NULL, run, NULL);
    for (int t = 0; t < threads; ++t) pthread_join(ids[t], NULL);
  }
  printf("%lu %ld\n", checksum, milestone);
  return 0;
}
