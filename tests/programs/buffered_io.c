/* The syscalls the syscall buffer makes itself, many times over: pipe and
 * file reads and writes, stats, directory listings, clocks. What it prints
 * depends on the clock, so a replay that made real calls would differ. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int main(int argc, char** argv) {
  CHECK(argc == 2);
  char path[4096];
  snprintf(path, sizeof path, "%s/data", argv[1]);
  int file = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  int fds[2];
  CHECK(file >= 0 && pipe(fds) == 0);
  static const char zeros[64 * 32];
  CHECK(write(file, zeros, sizeof zeros) == sizeof zeros);
  unsigned long sum = 0;
  long long clock_bits = 0;
  for (int i = 0; i < 3000; ++i) {
    char buffer[32];
    int n = snprintf(buffer, sizeof buffer, "record %d\n", i);
    CHECK(write(fds[1], buffer, (size_t)n) == n);
    CHECK(read(fds[0], buffer, sizeof buffer) == n);
    CHECK(pwrite(file, buffer, (size_t)n, (i % 64) * 32) == n);
    CHECK(pread(file, buffer, sizeof buffer, ((i * 7) % 64) * 32) > 0);
    struct stat st;
    CHECK(fstat(file, &st) == 0);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    clock_bits ^= ts.tv_nsec;
    sum += (unsigned char)buffer[i % 8] + (unsigned long)st.st_size;
  }
  int entries = 0;
  for (int i = 0; i < 20; ++i) {
    DIR* dir = opendir(argv[1]);
    CHECK(dir != NULL);
    while (readdir(dir)) ++entries;
    closedir(dir);
  }
  printf("sum %lu, %d entries, clocks %llx\n", sum, entries, clock_bits);
  return 0;
}
