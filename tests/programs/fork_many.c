/* Forks N children (default 200), one after another, each exiting at once
 * with a status of its own; the parent waits for each and prints the sum. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

int main(int argc, char** argv) {
  int children = argc > 1 ? atoi(argv[1]) : 200;
  long sum = 0;
  for (int i = 0; i < children; ++i) {
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) _exit(i % 100);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    sum += WEXITSTATUS(status);
  }
  printf("%d children, statuses sum to %ld\n", children, sum);
  return 0;
}
