/* A deliberate data race: two threads add to a counter without a lock, so
 * increments are lost, a different number each native run. Replay must
 * print the recorded number every time. */
#include <pthread.h>

#include "util.h"

enum { kRounds = 20000000 };

static volatile long counter;

static void* work(void* arg) {
  (void)arg;
  for (int i = 0; i < kRounds; ++i) counter = counter + 1;
  return NULL;
}

int main(void) {
  pthread_t threads[2];
  for (int i = 0; i < 2; ++i) CHECK(pthread_create(&threads[i], NULL, work, NULL) == 0);
  for (int i = 0; i < 2; ++i) CHECK(pthread_join(threads[i], NULL) == 0);
  printf("counter %ld of %d\n", counter, 2 * kRounds);
  return 0;
}
