/* A program that runs another one: a child execs debug_libm_user, whose
 * libc loads at another address (libm loads first). Both write, and both
 * keep a number at the same fixed address, each in its own memory. */
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

int main(int argc, char** argv) {
  (void)argc;
  volatile int* number = mmap((void*)0x10000000, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  CHECK(number == (volatile int*)0x10000000);
  *number = 5;
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
  *number = 7;
  CHECK(write(1, line, strlen(line)) == (ssize_t)strlen(line));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
