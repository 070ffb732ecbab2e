/* A fork from a program whose other thread keeps making syscalls, so that
 * it often holds the threads' turn when the fork comes: the child is a
 * process of its own, with one thread, and runs. The parent forks three
 * times and reports each child's exit. With the argument "spawn", the
 * children are /bin/echo, started by posix_spawn (a vfork child, in the
 * threads' memory until its exec). */
#include <pthread.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

#include "util.h"

static volatile int done;

static void* busy(void* arg) {
  (void)arg;
  long calls = 0;
  while (!done) calls += getppid() > 0;
  return (void*)calls;
}

int main(int argc, char** argv) {
  int spawn = argc > 1 && strcmp(argv[1], "spawn") == 0;
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, busy, NULL) == 0);
  for (int i = 0; i < 3; ++i) {
    pid_t child;
    if (spawn) {
      char line[32];
      snprintf(line, sizeof line, "child %d runs", i);
      char* args[] = {"/bin/echo", line, NULL};
      CHECK(posix_spawn(&child, args[0], NULL, NULL, args, environ) == 0);
    } else {
      child = fork();
    }
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
