// Kernel corner (tests/e2e/kernel_test.cc): four threads fork at once, over
// and over. glibc's fork takes a lock the other threads wait for, so the
// memory each child starts from depends on what the other threads were
// doing when the kernel copied it: replay must give each child that state.
#include "kernel_common.h"

#define ROUNDS 10

static int exits[4];

static void* forker(void* arg) {
  int me = (int)(long)arg;
  for (int i = 0; i < ROUNDS; ++i) {
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) _exit(me * 10 + i % 10);
    exits[me] += child_status(child);
  }
  return NULL;
}

int main(void) {
  pthread_t threads[4];
  for (long i = 0; i < 4; ++i) CHECK(pthread_create(&threads[i], NULL, forker, (void*)i) == 0);
  for (int i = 0; i < 4; ++i) CHECK(pthread_join(threads[i], NULL) == 0);
  for (int i = 0; i < 4; ++i) printf("thread %d: children's statuses add up to %d\n", i, exits[i]);
  return 0;
}
