/* A fork from a program whose other thread keeps making syscalls, so that
 * it often holds the threads' turn when the fork comes: the child is a
 * process of its own, with one thread, and runs. The parent forks three
 * times and reports each child's exit. */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static volatile int done;

static void* busy(void* arg) {
  (void)arg;
  long calls = 0;
  while (!done) calls += getppid() > 0;
  return (void*)calls;
}

int main(void) {
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, busy, NULL) == 0);
  for (int i = 0; i < 3; ++i) {
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
      printf("child %d runs\n", i);
      fflush(stdout);
      _exit(10 + i);
    }
    int status;
    CHECK(waitpid(child, &status, 0) == child);
    printf("child %d exited with %d\n", i, WEXITSTATUS(status));
    fflush(stdout);
  }
  done = 1;
  CHECK(pthread_join(thread, NULL) == 0);
  return 0;
}
