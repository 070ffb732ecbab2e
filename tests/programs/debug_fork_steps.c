/* Two children run the same function, at once; the parent waits for them.
 * Their frames are at the same addresses (a fork copies the stack), so only
 * the process that arrives tells one child's line from the other's. */
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static int steps(int who) {
  int sum = who * 10;
  usleep(2000);
  sum += 1;
  usleep(2000);
  sum += 2;
  usleep(2000);
  sum += 3;
  return sum;
}

int main(void) {
  pid_t children[2];
  for (int i = 0; i < 2; ++i) {
    children[i] = fork();
    CHECK(children[i] >= 0);
    if (children[i] == 0) {
      int sum = steps(i);
      printf("child %d: %d\n", i, sum);
      fflush(stdout);
      _exit(0);
    }
  }
  for (int i = 0; i < 2; ++i) CHECK(waitpid(children[i], NULL, 0) == children[i]);
  return 0;
}
