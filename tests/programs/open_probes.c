/* Opens that fail in the path's lookup, as programs probing for locales,
 * configs and commands make all day; one that creates a file; one of a FIFO.
 * Prints what each open returned, and the files it made in between, so a
 * replay that opened for real in another directory would differ. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static void probe(const char* what, const char* path, int flags) {
  int fd = open(path, flags, 0600);
  printf("%s: %s\n", what, fd >= 0 ? "opened" : strerrorname_np(errno));
  if (fd >= 0) close(fd);
}

int main(int argc, char** argv) {
  CHECK(argc == 2);
  char missing[4096], under_file[4096], loop[4096], created[4096], fifo[4096], long_name[512];
  snprintf(missing, sizeof missing, "%s/no-such-file", argv[1]);
  snprintf(under_file, sizeof under_file, "%s/created/inside", argv[1]);
  snprintf(loop, sizeof loop, "%s/loop", argv[1]);
  snprintf(created, sizeof created, "%s/created", argv[1]);
  snprintf(fifo, sizeof fifo, "%s/fifo", argv[1]);
  memset(long_name, 'x', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = 0;
  CHECK(symlink(loop, loop) == 0);
  CHECK(mkfifo(fifo, 0600) == 0);
  for (int round = 0; round < 3; ++round) {
    probe("missing", missing, O_RDONLY | O_CLOEXEC);
    probe("symlink loop", loop, O_RDONLY);
    probe("name too long", long_name, O_RDONLY);
    probe("created", created, O_WRONLY | O_CREAT | O_CLOEXEC);
    probe("under a file", under_file, O_RDONLY);
  }
  /* O_RDWR: a FIFO opened for both ends does not wait (but it is a FIFO). */
  probe("fifo", fifo, O_RDWR);
  struct stat st;
  printf("created is %s\n", stat(created, &st) == 0 && S_ISREG(st.st_mode) ? "a file" : "missing");
  return 0;
}
