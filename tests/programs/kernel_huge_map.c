// A 100 GiB sparse file mapped shared: the program touches a few pages far
// apart, and reads back through read() what it wrote through the mapping.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
  char path[] = "/tmp/ttdb-huge-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return perror("mkstemp"), 1;
  unlink(path);
  const off_t size = 100LL << 30;
  if (ftruncate(fd, size) != 0) return perror("ftruncate"), 77;
  pwrite(fd, "written before", 14, 5LL << 30);
  char* map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return perror("mmap"), 1;
  printf("at 5 GiB: '%.14s'\n", map + (5LL << 30));
  strcpy(map + (70LL << 30), "written through the map");
  char back[32] = {0};
  pread(fd, back, 23, 70LL << 30);
  printf("read back: '%s', zero elsewhere: %d\n", back, map[1LL << 30] == 0);
  munmap(map, size);
  return 0;
}
