/* Producer and consumers on a queue guarded by a mutex and two condition
 * variables; each item carries a random number, and each consumer prints
 * how many items it took and their sum. */
#include <pthread.h>
#include <sys/random.h>

#include "util.h"

enum { kItems = 2000, kConsumers = 3, kSlots = 8 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
static unsigned queue[kSlots];
static int head, count, done;

static void* consume(void* arg) {
  long id = (long)arg;
  unsigned long sum = 0;
  int taken = 0;
  for (;;) {
    pthread_mutex_lock(&lock);
    while (count == 0 && !done) pthread_cond_wait(&not_empty, &lock);
    if (count == 0 && done) {
      pthread_mutex_unlock(&lock);
      break;
    }
    sum += queue[head];
    head = (head + 1) % kSlots;
    --count;
    ++taken;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&lock);
  }
  pthread_mutex_lock(&lock);
  printf("consumer %ld: %d items, sum %lu\n", id, taken, sum);
  fflush(stdout);
  pthread_mutex_unlock(&lock);
  return (void*)(long)taken;
}

int main(void) {
  pthread_t consumers[kConsumers];
  for (long i = 0; i < kConsumers; ++i) CHECK(pthread_create(&consumers[i], NULL, consume, (void*)i) == 0);
  unsigned long total = 0;
  for (int i = 0; i < kItems; ++i) {
    unsigned value = 0;
    CHECK(getrandom(&value, sizeof value, 0) == sizeof value);
    value %= 1000;
    total += value;
    pthread_mutex_lock(&lock);
    while (count == kSlots) pthread_cond_wait(&not_full, &lock);
    queue[(head + count) % kSlots] = value;
    ++count;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&lock);
  }
  pthread_mutex_lock(&lock);
  done = 1;
  pthread_cond_broadcast(&not_empty);
  pthread_mutex_unlock(&lock);
  long taken = 0;
  for (int i = 0; i < kConsumers; ++i) {
    void* result;
    CHECK(pthread_join(consumers[i], &result) == 0);
    taken += (long)result;
  }
  printf("produced %d items, sum %lu; consumed %ld\n", kItems, total, taken);
  return 0;
}
