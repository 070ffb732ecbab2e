// Kernel corner (tests/e2e/kernel_test.cc): the program copies itself to a
// file, runs the copy, and the copy deletes itself: replay runs it from the
// trace's copy of the file, which is gone by then.
#include "kernel_common.h"

int main(int argc, char** argv) {
  if (argc > 1) {
    CHECK(unlink(argv[0]) == 0);
    printf("the copy ran and deleted itself\n");
    return 7;
  }
  char path[64];
  snprintf(path, sizeof path, "/tmp/ttdb-exec-deleted-%d", getpid());
  int from = open("/proc/self/exe", O_RDONLY), to = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0700);
  CHECK(from >= 0 && to >= 0);
  char block[65536];
  for (ssize_t n; (n = read(from, block, sizeof block)) > 0;) CHECK(write(to, block, n) == n);
  close(from);
  CHECK(close(to) == 0);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    execl(path, path, "copy", (char*)NULL);
    _exit(127);
  }
  printf("the copy exited with %d\n", child_status(child));
  return 0;
}
