/* A spin lock made of an atomic flag, with no syscall while a thread spins
 * or holds it. The main thread holds it through a long computation while the
 * other spins for it; then they take turns on it for a shared counter. A
 * recorder that let a spinning thread keep the CPU would never finish. */
#include <pthread.h>
#include <stdatomic.h>

#include "util.h"

enum { kRounds = 100000 };

static atomic_flag held = ATOMIC_FLAG_INIT;
static long counter;
static volatile unsigned long work_done;

static void lock(void) {
  while (atomic_flag_test_and_set_explicit(&held, memory_order_acquire)) {
  }
}

static void unlock(void) { atomic_flag_clear_explicit(&held, memory_order_release); }

static void* work(void* arg) {
  (void)arg;
  for (int i = 0; i < kRounds; ++i) {
    lock();
    ++counter;
    unlock();
  }
  return NULL;
}

int main(void) {
  lock();
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, work, NULL) == 0);
  for (unsigned long i = 0; i < 100000000; ++i) work_done += i;  /* while the other spins */
  unlock();
  for (int i = 0; i < kRounds; ++i) {
    lock();
    ++counter;
    unlock();
  }
  CHECK(pthread_join(thread, NULL) == 0);
  printf("counter %ld (expected %d), work %lu\n", counter, 2 * kRounds, work_done);
  return 0;
}
