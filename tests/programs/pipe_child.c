/* A parent and its child talk through two pipes: the parent sends random
 * bytes, the child sends back their sum, many times over. */
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

int main(void) {
  int down[2], up[2];
  CHECK(pipe(down) == 0 && pipe(up) == 0);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    close(down[1]);
    close(up[0]);
    unsigned char block[64];
    ssize_t n;
    while ((n = read(down[0], block, sizeof block)) > 0) {
      unsigned sum = 0;
      for (ssize_t i = 0; i < n; ++i) sum += block[i];
      CHECK(write(up[1], &sum, sizeof sum) == sizeof sum);
    }
    _exit(0);
  }
  close(down[0]);
  close(up[1]);
  unsigned total = 0;
  for (int round = 0; round < 200; ++round) {
    unsigned char block[64];
    CHECK(getrandom(block, sizeof block, 0) == sizeof block);
    CHECK(write(down[1], block, sizeof block) == sizeof block);
    unsigned sum = 0;
    CHECK(read(up[0], &sum, sizeof sum) == sizeof sum);
    total += sum;
    if (round % 50 == 0) printf("round %d: sum %u\n", round, sum);
  }
  close(down[1]);
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status));
  printf("total %u\n", total);
  return 0;
}
