/* A chain of programs: each link prints its depth and a random number, then
 * either execs the next link itself or starts it in a child (fork, vfork or
 * posix_spawn, by turns) and waits for it. The last link runs /bin/echo. */
#include <spawn.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

extern char** environ;

int main(int argc, char** argv) {
  int depth = argc > 1 ? atoi(argv[1]) : 5;
  unsigned value = 0;
  CHECK(getrandom(&value, sizeof value, 0) == sizeof value);
  printf("link %d: pid %d, random %08x\n", depth, (int)getpid(), value);
  fflush(stdout);
  char next[16];
  snprintf(next, sizeof next, "%d", depth - 1);
  char* link_argv[] = {argv[0], next, NULL};
  char* echo_argv[] = {"/bin/echo", "the end of the chain", NULL};
  char** child_argv = depth > 1 ? link_argv : echo_argv;
  pid_t child = -1;
  switch (depth % 4) {
    case 0: execv(child_argv[0], child_argv); CHECK(!"execv"); break;
    case 1: child = fork(); if (child == 0) { execv(child_argv[0], child_argv); _exit(127); } break;
    case 2: child = vfork(); if (child == 0) { execv(child_argv[0], child_argv); _exit(127); } break;
    case 3: CHECK(posix_spawn(&child, child_argv[0], NULL, NULL, child_argv, environ) == 0); break;
  }
  CHECK(child > 0);
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child);
  printf("link %d: child %d exited with %d\n", depth, (int)child, WEXITSTATUS(status));
  return depth;
}
