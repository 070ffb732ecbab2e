/* One exit sets off events in two processes: a grandchild writes a byte
 * and ends, so that its parent, which waits for it with SIGCHLD blocked,
 * takes that SIGCHLD once it unblocks it, and the main process, waiting in
 * pselect6 under a signal mask of its own, sees the byte. Both have a
 * SIGCHLD handler (make's jobserver and its shells are like this). */
#include <signal.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static void noted(int sig) { (void)sig; }

int main(void) {
  int to_main[2];
  CHECK(pipe(to_main) == 0);
  struct sigaction action = {0};
  action.sa_handler = noted;
  CHECK(sigaction(SIGCHLD, &action, NULL) == 0);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    sigset_t chld, none;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigemptyset(&none);
    CHECK(sigprocmask(SIG_BLOCK, &chld, NULL) == 0);
    pid_t grandchild = fork();
    CHECK(grandchild >= 0);
    if (grandchild == 0) {
      CHECK(write(to_main[1], "x", 1) == 1);
      _exit(3);
    }
    int status = 0;
    CHECK(waitpid(grandchild, &status, 0) == grandchild);
    /* The SIGCHLD pending since is taken at this call's return. */
    CHECK(sigprocmask(SIG_SETMASK, &none, NULL) == 0);
    printf("child: grandchild exited with %d\n", WEXITSTATUS(status));
    return 0;
  }
  fd_set readable;
  FD_ZERO(&readable);
  FD_SET(to_main[0], &readable);
  sigset_t none;
  sigemptyset(&none);
  CHECK(pselect(to_main[0] + 1, &readable, NULL, NULL, NULL, &none) == 1);
  /* Nothing of this process's own between its pselect6 and its child's end. */
  int status = 0;
  while (waitpid(child, &status, 0) != child) {
  }
  char c = 0;
  CHECK(read(to_main[0], &c, 1) == 1);
  printf("main: read %c, child exited with %d\n", c, WEXITSTATUS(status));
  return 0;
}
