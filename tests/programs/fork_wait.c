/* Forks children that each see something nondeterministic (their pid, a
 * random number, the time) and end with a status of their own; the parent
 * waits for every one and prints what it learned. */
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int main(void) {
  enum { kChildren = 3 };
  pid_t children[kChildren];
  printf("parent %d\n", (int)getpid());
  fflush(stdout);
  for (int i = 0; i < kChildren; ++i) {
    children[i] = fork();
    CHECK(children[i] >= 0);
    if (children[i] == 0) {
      unsigned value = 0;
      CHECK(getrandom(&value, sizeof value, 0) == sizeof value);
      struct timespec now;
      clock_gettime(CLOCK_REALTIME, &now);
      printf("child %d: pid %d, parent %d, random %08x, time %ld.%09ld\n", i, (int)getpid(), (int)getppid(), value,
             (long)now.tv_sec, now.tv_nsec);
      fflush(stdout);
      _exit(10 + i);
    }
  }
  for (int i = kChildren - 1; i >= 0; --i) {
    int status = 0;
    pid_t got = waitpid(children[i], &status, 0);
    CHECK(got == children[i]);
    printf("child %d (%d) exited with %d\n", i, (int)got, WEXITSTATUS(status));
  }
  return 0;
}
