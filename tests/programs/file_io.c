/* Writes a file, reads it back, and passes data through a pipe. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int main(int argc, char** argv) {
  CHECK(argc == 2);
  const char* path = argv[1];
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
  CHECK(fd >= 0);
  const char text[] = "line one\nline two\n";
  CHECK(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
  CHECK(close(fd) == 0);

  struct stat st;
  CHECK(stat(path, &st) == 0);
  printf("size %lld mode %o\n", (long long)st.st_size, st.st_mode & 0777);

  char buffer[64] = {0};
  fd = open(path, O_RDONLY);
  CHECK(fd >= 0);
  ssize_t n = read(fd, buffer, sizeof buffer - 1);
  printf("read %zd: %s", n, buffer);
  CHECK(lseek(fd, 5, SEEK_SET) == 5);
  n = pread(fd, buffer, 3, 10);
  printf("pread %zd: %.3s\n", n, buffer);
  close(fd);
  unlink(path);

  int pipe_fds[2];
  CHECK(pipe2(pipe_fds, O_CLOEXEC) == 0);
  CHECK(write(pipe_fds[1], "through the pipe", 16) == 16);
  memset(buffer, 0, sizeof buffer);
  n = read(pipe_fds[0], buffer, sizeof buffer);
  printf("pipe %zd: %s\n", n, buffer);

  /* stdout through a duplicated descriptor is still stdout. */
  int out = dup(1);
  dprintf(out, "via dup %d\n", out > 2);
  fprintf(stderr, "to stderr\n");
  return 0;
}
