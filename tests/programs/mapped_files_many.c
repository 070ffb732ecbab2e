/* Maps eighty files of the directory argv[1] in turn, twice, reading each
 * through its mapping, then once more in a forked child: more files than
 * replay keeps descriptors open for, and a child whose descriptor table is
 * a copy of its parent's. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

enum { kFiles = 80, kSize = 64 };

static void path_of(char* path, size_t size, const char* dir, int i) { snprintf(path, size, "%s/mapped%d", dir, i); }

static void show(const char* who, const char* dir, int i) {
  char path[4096];
  path_of(path, sizeof path, dir, i);
  int fd = open(path, O_RDONLY);
  CHECK(fd >= 0);
  char* data = mmap(NULL, kSize, PROT_READ, MAP_PRIVATE, fd, 0);
  CHECK(data != MAP_FAILED);
  CHECK(close(fd) == 0);
  printf("%s: %.*s", who, (int)(strchr(data, '\n') - data + 1), data);
  CHECK(munmap(data, kSize) == 0);
}

int main(int argc, char** argv) {
  CHECK(argc == 2);
  for (int i = 0; i < kFiles; ++i) {
    char path[4096], line[kSize];
    path_of(path, sizeof path, argv[1], i);
    FILE* f = fopen(path, "w");
    CHECK(f != NULL);
    memset(line, '.', sizeof line);
    snprintf(line, sizeof line, "file %d of %d\n", i, kFiles);
    CHECK(fwrite(line, 1, sizeof line, f) == sizeof line);
    CHECK(fclose(f) == 0);
  }
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < kFiles; ++i) show("parent", argv[1], (i * 7 + round) % kFiles);
  fflush(stdout);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    for (int i = kFiles - 1; i >= 0; i -= 3) show("child", argv[1], i);
    fflush(stdout);
    _exit(0);
  }
  int status;
  CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status));
  show("parent", argv[1], 0);
  return 0;
}
