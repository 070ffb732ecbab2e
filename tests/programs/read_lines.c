/* Reads the file named by argv[1] a line at a time, with read() and no
 * buffer ahead of the line (so that its descriptor's offset is where the
 * next line starts), and prints each line it read; exits with how many.
 * With "pipe" after the file, it holds both ends of a pipe all along; with
 * "halfpipe", only its read end; with "fullpipe", both, a byte in it. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

__attribute__((noinline)) static int show(int number, const char* line) {
  printf("line %d: %s\n", number, line);
  fflush(stdout);
  return number;
}

int main(int argc, char** argv) {
  CHECK(argc == 2 || argc == 3);
  int ends[2];
  if (argc == 3) {
    CHECK(pipe(ends) == 0);
    if (strcmp(argv[2], "halfpipe") == 0) CHECK(close(ends[1]) == 0);
    else if (strcmp(argv[2], "fullpipe") == 0) CHECK(write(ends[1], "x", 1) == 1);
    else CHECK(strcmp(argv[2], "pipe") == 0);
  }
  int fd = open(argv[1], O_RDONLY);
  CHECK(fd >= 0);
  char line[256];
  size_t used = 0;
  int number = 0;
  for (char c; read(fd, &c, 1) == 1;) {
    if (c != '\n' && used + 1 < sizeof line) {
      line[used++] = c;
      continue;
    }
    line[used] = 0;
    used = 0;
    show(++number, line);
  }
  close(fd);
  printf("%d lines\n", number);
  return number;
}
