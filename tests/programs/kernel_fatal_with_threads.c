// A process with a second thread (waiting in pause) dies of its own
// SIGSEGV; its parent sees the signal. In the recording the idle thread's
// end may come first: replay must end the process by SIGSEGV, not SIGKILL.
#include "kernel_common.h"

static void* idle(void* arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

int main(void) {
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    pthread_t t;
    pthread_create(&t, NULL, idle, NULL);
    usleep(10000);
    volatile int* nowhere = (int*)16;
    *nowhere = 1;
    _exit(0);
  }
  int status;
  CHECK(waitpid(child, &status, 0) == child);
  printf("child killed: %d, by signal %d\n", WIFSIGNALED(status), WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return 0;
}
