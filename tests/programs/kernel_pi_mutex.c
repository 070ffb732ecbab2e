// Kernel corner (tests/e2e/kernel_test.cc): a priority-inheritance mutex
// that threads fight over. The kernel writes its word (the owner's tid, the
// waiters bit) as threads wait and as it hands the lock over, and the
// owner's unlock goes into the kernel only when it sees that bit.
#include "kernel_common.h"
#include <sched.h>
#include <time.h>

static pthread_mutex_t lock;
static long counter;

static void* worker(void* arg) {
  (void)arg;
  for (int i = 0; i < 1500; i++) {
    CHECK(pthread_mutex_lock(&lock) == 0);
    long seen = counter;
    if ((i & 127) == 0) sched_yield();  // others queue up on the lock meanwhile
    counter = seen + 1;
    CHECK(pthread_mutex_unlock(&lock) == 0);
  }
  return 0;
}

static struct timespec deadline;
static void* timed(void* result) {
  *(int*)result = pthread_mutex_timedlock(&lock, &deadline);
  return 0;
}

int main(void) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  CHECK(pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT) == 0);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
  CHECK(pthread_mutex_init(&lock, &attr) == 0);
  pthread_t threads[3];
  for (int i = 0; i < 3; i++) CHECK(pthread_create(&threads[i], 0, worker, 0) == 0);
  for (int i = 0; i < 3; i++) pthread_join(threads[i], 0);
  printf("counter=%ld\n", counter);

  CHECK(pthread_mutex_lock(&lock) == 0);
  printf("locked twice: %s\n", strerrorname_np(pthread_mutex_lock(&lock)));
  CHECK(pthread_mutex_unlock(&lock) == 0);
  printf("unlocked twice: %s\n", strerrorname_np(pthread_mutex_unlock(&lock)));

  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += 2000000;
  if (deadline.tv_nsec >= 1000000000) deadline.tv_sec++, deadline.tv_nsec -= 1000000000;
  CHECK(pthread_mutex_lock(&lock) == 0);
  pthread_t waiter;
  int result = -1;
  pthread_create(&waiter, 0, timed, &result);
  pthread_join(waiter, 0);
  printf("timed lock of a held PI mutex: %s\n", strerrorname_np(result));
  CHECK(pthread_mutex_unlock(&lock) == 0);
  return counter == 4500 ? 0 : 1;
}
