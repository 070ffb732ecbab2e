// A signal sent to a thread that spins without syscalls (not the process's
// first thread): the recorder, which holds asynchronous signals until a
// syscall boundary, must deliver it all the same.
#include "kernel_common.h"

static volatile int stop, started;
static volatile long rounds;
static void on_usr1(int sig) { (void)sig; stop = 1; }
static void* spin(void* arg) {
  (void)arg;
  started = 1;
  while (!stop) rounds++;
  return (void*)1L;
}

int main(void) {
  signal(SIGUSR1, on_usr1);
  for (int round = 0; round < 3; round++) {
    stop = started = 0;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, spin, NULL) == 0);
    while (!started) usleep(1000);
    usleep(10000);
    CHECK(pthread_kill(t, SIGUSR1) == 0);
    void* result;
    CHECK(pthread_join(t, &result) == 0);
    printf("round %d: the spinner stopped (%ld)\n", round, (long)result);
  }
  return 0;
}
