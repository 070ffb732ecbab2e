/* A million small syscalls: 16-byte writes and reads through a pipe and a file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 250000;
  char path[] = "/tmp/ttdb-bench-XXXXXX";
  int file = mkstemp(path);
  unlink(path);
  int fds[2];
  if (file < 0 || pipe(fds) != 0) return 1;
  char buffer[16] = "0123456789abcdef";
  /* The reads below land anywhere in the first 4 KiB: fill it first. */
  for (int i = 0; i < 256; ++i)
    if (write(file, buffer, sizeof buffer) != sizeof buffer) return 1;
  unsigned long sum = 0;
  for (long i = 0; i < rounds; ++i) {
    if (write(fds[1], buffer, sizeof buffer) != sizeof buffer) return 1;
    if (read(fds[0], buffer, sizeof buffer) != sizeof buffer) return 1;
    if (pwrite(file, buffer, sizeof buffer, (i % 256) * 16) != sizeof buffer) return 1;
    if (pread(file, buffer, sizeof buffer, ((i * 7) % 256) * 16) != sizeof buffer) return 1;
    sum += (unsigned char)buffer[i % 16];
  }
  printf("%lu\n", sum);
  return 0;
}
