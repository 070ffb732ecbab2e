/* A program that runs another one: a child execs debug_libm_user, whose
 * libc loads at another address (libm loads first). Both write. */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

int main(int argc, char** argv) {
  (void)argc;
  const char* line = "parent writes\n";
  CHECK(write(1, line, strlen(line)) == (ssize_t)strlen(line));
  /* debug_libm_user, beside this program. */
  char other[4096];
  snprintf(other, sizeof other, "%s", argv[0]);
  char* slash = strrchr(other, '/');
  snprintf(slash ? slash + 1 : other, sizeof other - (size_t)(slash ? slash + 1 - other : 0), "debug_libm_user");
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    char* child_argv[] = {other, NULL};
    execv(other, child_argv);
    _exit(127);
  }
  /* The child runs while the parent sleeps. */
  usleep(100000);
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child);
  CHECK(write(1, line, strlen(line)) == (ssize_t)strlen(line));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
