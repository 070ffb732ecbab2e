/* Views of one file of random bytes, private and read-only, as programs map
 * locale files and the loader's cache: from a descriptor open for reading
 * only (fd 40), and from one open for writing too (fd 50); a new version of
 * the file after a write; a view from an offset, past the file's end; and a
 * child's views. Prints a checksum of each view: replay must print the same
 * once the file is gone. Usage: mapped_files DIR */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

enum { kSize = 3 * 4096 + 100 };

static unsigned long checksum(const unsigned char* bytes, size_t size) {
  unsigned long sum = 0;
  for (size_t i = 0; i < size; ++i) sum = sum * 31 + bytes[i];
  return sum;
}

/* Maps `length` bytes of fd from `offset`, prints their checksum, unmaps. */
static int show(const char* what, int fd, size_t length, off_t offset) {
  unsigned char* view = mmap(NULL, length, PROT_READ, MAP_PRIVATE, fd, offset);
  if (view == MAP_FAILED) return 1;
  printf("%s: %lx\n", what, checksum(view, length));
  return munmap(view, length);
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  char path[4096];
  snprintf(path, sizeof path, "%s/mapped-XXXXXX", argv[1]);
  int writable = mkstemp(path);
  if (writable < 0 || fill_random(writable, kSize) != 0) return 1;
  if (dup2(writable, 50) != 50) return 1;
  close(writable);
  int readable = open(path, O_RDONLY);
  if (readable < 0 || dup2(readable, 40) != 40) return 1;
  close(readable);

  int failed = 0;
  for (int i = 0; i < 4; ++i) failed |= show("read-only view", 40, kSize, 0);
  failed |= show("from a writable descriptor", 50, kSize, 0);
  failed |= show("from the second page, past the end", 40, 3 * 4096, 4096);
  /* A new version: the views show it, the next ones through the buffer too. */
  failed |= fill_random(50, kSize);
  for (int i = 0; i < 3; ++i) failed |= show("new version", 40, kSize, 0);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    int bad = 0;
    for (int i = 0; i < 3; ++i) bad |= show("child's view", 40, kSize, 0);
    fflush(stdout);
    _exit(bad);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status)) failed = 1;
  unlink(path);
  return failed;
}
