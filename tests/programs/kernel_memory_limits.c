// Kernel corner (tests/e2e/kernel_test.cc): limits on memory the program
// sets itself. A brk past RLIMIT_DATA and an mmap past RLIMIT_AS fail; a
// child with an unlimited stack execs a program, which the kernel then lays
// out the legacy way (its mmap base moves), as does one with a huge stack.
#include "kernel_common.h"
#include <sys/resource.h>

static void exec_with_stack(rlim_t size, const char* words) {
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    struct rlimit stack = {size, size};
    if (setrlimit(RLIMIT_STACK, &stack) != 0) _exit(2);
    execl("/bin/echo", "echo", words, (char*)NULL);
    _exit(127);
  }
  CHECK(child_status(child) == 0);
}

int main(void) {
  void* start = sbrk(0);
  struct rlimit data = {1 << 20, RLIM_INFINITY};
  CHECK(setrlimit(RLIMIT_DATA, &data) == 0);
  printf("brk 64 MiB past the limit: %s\n", brk((char*)start + (64 << 20)) == 0 ? "granted" : en());
  struct rlimit space = {1ul << 36, RLIM_INFINITY};
  CHECK(prlimit(0, RLIMIT_AS, &space, NULL) == 0);
  void* huge = mmap(NULL, 1ul << 37, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  printf("mmap past RLIMIT_AS: %s\n", huge == MAP_FAILED ? en() : "granted");
  fflush(stdout);
  // Back to none, for the programs the children run (and ttdb's buffer in them).
  data.rlim_cur = space.rlim_cur = RLIM_INFINITY;
  CHECK(setrlimit(RLIMIT_DATA, &data) == 0 && setrlimit(RLIMIT_AS, &space) == 0);
  exec_with_stack(RLIM_INFINITY, "an unlimited stack");
  exec_with_stack(1ul << 30, "a 1 GiB stack");
  return 0;
}
