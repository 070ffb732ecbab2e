// Children reaped by polling, as make does: waitpid(-1, WNOHANG) until all
// six have ended, which the syscall buffer makes (it cannot block). Each
// poll that reaps one gives a pid and a status, which replay must give
// back from the recording, in the order the recording saw them.
#include "kernel_common.h"

#define CHILDREN 6

int main(void) {
  pid_t kids[CHILDREN];
  for (int i = 0; i < CHILDREN; ++i) {
    kids[i] = fork();
    CHECK(kids[i] >= 0);
    if (kids[i] == 0) {
      usleep(1000 * (CHILDREN - i));
      _exit(10 + i);
    }
  }
  for (int reaped = 0; reaped < CHILDREN;) {
    int status;
    pid_t got = waitpid(-1, &status, WNOHANG);
    CHECK(got >= 0);
    if (got == 0) {
      usleep(200);
      continue;
    }
    int which = -1;
    for (int i = 0; i < CHILDREN; ++i)
      if (kids[i] == got) which = i;
    CHECK(which >= 0 && WIFEXITED(status));
    printf("child %d exited %d\n", which, WEXITSTATUS(status));
    ++reaped;
  }
  printf("none left: %d\n", waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
  return 0;
}
