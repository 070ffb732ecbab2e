/* A thread started and joined, then a child started with posix_spawn (a
 * vfork child, in the memory of a program that has had threads). */
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>

#include "util.h"

extern char** environ;

static void* run(void* arg) {
  printf("in the thread\n");
  fflush(stdout);
  return arg;
}

int main(void) {
  printf("before the thread\n");
  fflush(stdout);
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, run, NULL) == 0);
  pthread_join(thread, NULL);
  printf("after the thread\n");
  fflush(stdout);
  pid_t child;
  char* argv[] = {"/bin/echo", "from a child", NULL};
  CHECK(posix_spawn(&child, argv[0], NULL, NULL, argv, environ) == 0);
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status));
  printf("child exited with %d\n", WEXITSTATUS(status));
  return 0;
}
