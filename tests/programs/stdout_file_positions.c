// Output to a stdout that is a regular file, placed by file position: pwrite
// into earlier output, lseek back and overwrite, ftruncate to cut a line,
// O_APPEND set with fcntl, and a read back through /proc/self/fd/1.
// (tests/e2e/files_test.cc runs it with stdout redirected to a file.)
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void say(const char* text) {
  if (write(1, text, strlen(text)) != (ssize_t)strlen(text)) _exit(1);
}

int main(void) {
  struct stat st;
  if (fstat(1, &st) != 0 || !S_ISREG(st.st_mode)) {
    say("stdout is not a regular file\n");
    return 0;
  }
  say("line-one aaaa\n");
  say("line-two bbbb\n");
  off_t start = lseek(1, 0, SEEK_CUR) - 28;
  if (pwrite(1, "ONE", 3, start + 5) != 3) return 1;
  off_t here = lseek(1, 0, SEEK_CUR);
  lseek(1, start + 14 + 5, SEEK_SET);
  say("TWO");
  lseek(1, here, SEEK_SET);
  say("line-three cccc\n");
  say("a line cut away by ftruncate\n");
  if (ftruncate(1, here + 16) != 0) return 1;
  lseek(1, here + 16, SEEK_SET);
  int flags = fcntl(1, F_GETFL);
  fcntl(1, F_SETFL, flags | O_APPEND);
  lseek(1, start, SEEK_SET);
  say("appended after an lseek to the start\n");
  fcntl(1, F_SETFL, flags);
  char first[15] = {0};
  int again = open("/proc/self/fd/1", O_RDONLY);
  if (again < 0 || pread(again, first, 14, start) != 14) return 1;
  char line[64];
  snprintf(line, sizeof line, "read back: %s", first);
  say(line);
  return 0;
}
