/* A shell's redirections: dup, dup2 and dup3 move descriptors, stdout's
 * among them, between a file, a pipe and ttdb's own stdout; what goes to
 * each must stay there in replay (which re-emits only what went to
 * stdout). Usage: dup_redirections DIR */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  char path[4096];
  snprintf(path, sizeof path, "%s/redirected-XXXXXX", argv[1]);
  int file = mkstemp(path);
  int pipes[2];
  if (file < 0 || pipe(pipes) != 0) return 1;
  for (int round = 0; round < 3; ++round) {
    int saved = dup(1);
    if (saved < 0 || dup2(file, 1) != 1) return 1;
    dprintf(1, "to the file %d\n", round);
    if (dup3(saved, 1, 0) != 1 || close(saved) != 0) return 1;
    if (dup2(pipes[1], 20) != 20) return 1;
    if (write(20, "piped", 5) != 5 || close(20) != 0) return 1;
    char got[8] = {0};
    if (read(pipes[0], got, 5) != 5) return 1;
    printf("round %d: %s\n", round, got);
    fflush(stdout);
  }
  char back[256] = {0};
  ssize_t n = pread(file, back, sizeof back - 1, 0);
  printf("the file holds %zd bytes:\n%s", n, back);
  unlink(path);
  return 0;
}
