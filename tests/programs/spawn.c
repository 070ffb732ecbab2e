/* Starts a child process, which ttdb cannot record yet. */
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

int main(void) {
  printf("before fork\n");
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, NULL, 0);
  printf("after fork\n");
  return 0;
}
