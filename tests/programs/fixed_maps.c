/* Maps a file of random bytes as a loader maps a library, four times: the
 * whole file read-only, then over parts of it (MAP_FIXED) a read-only view
 * from an offset, a writable one that the program writes, and anonymous
 * memory for a zeroed tail, and prints a checksum of the region. Then
 * anonymous memory over anonymous memory, and a child that does it all
 * once more. Replay must print the same once the file is gone.
 * Usage: fixed_maps DIR */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

enum { kPage = 4096, kPages = 4, kSize = kPages * kPage };

static unsigned long checksum(const unsigned char* bytes, size_t size) {
  unsigned long sum = 0;
  for (size_t i = 0; i < size; ++i) sum = sum * 31 + bytes[i];
  return sum;
}

static int load(int fd, int round) {
  unsigned char* whole = mmap(NULL, kSize, PROT_READ, MAP_PRIVATE, fd, 0);
  if (whole == MAP_FAILED) return 1;
  /* Page 1 shows page 2 of the file; page 2 is writable; page 3 zeroed. */
  if (mmap(whole + kPage, kPage, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 2 * kPage) != whole + kPage) return 1;
  unsigned char* data = mmap(whole + 2 * kPage, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 2 * kPage);
  if (data != whole + 2 * kPage) return 1;
  data[round] ^= 0x5a;
  unsigned char* zeroed = mmap(whole + 3 * kPage, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
  if (zeroed != whole + 3 * kPage || zeroed[100] != 0) return 1;
  zeroed[round] = (unsigned char)(round + 1);
  printf("round %d: %lx\n", round, checksum(whole, kSize));
  return munmap(whole, kSize);
}

static int remap_anonymous(void) {
  unsigned char* area = mmap(NULL, 2 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED) return 1;
  memset(area, 7, 2 * kPage);
  if (mmap(area, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0) != area) return 1;
  printf("anonymous over anonymous: %d %d\n", area[0], area[kPage]);
  return munmap(area, 2 * kPage);
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  char path[4096];
  snprintf(path, sizeof path, "%s/fixed-XXXXXX", argv[1]);
  int writable = mkstemp(path);
  if (writable < 0 || fill_random(writable, kSize) != 0) return 1;
  close(writable);
  int fd = open(path, O_RDONLY);
  if (fd < 0 || dup2(fd, 40) != 40) return 1;
  close(fd);

  int failed = 0;
  for (int round = 0; round < 4; ++round) failed |= load(40, round);
  failed |= remap_anonymous();
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    int bad = load(40, 9);
    fflush(stdout);
    _exit(bad);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status)) failed = 1;
  unlink(path);
  return failed;
}
