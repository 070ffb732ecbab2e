// Kernel corner (tests/e2e/kernel_test.cc): a process made with clone(CLONE_VM)
// and no CLONE_THREAD shares its parent's memory while both run and make
// syscalls (the syscall buffer's among them).
#include "kernel_common.h"
#include <sched.h>

static volatile int counter;
static volatile int child_done;

static int child(void* arg) {
  (void)arg;
  for (int i = 0; i < 300; ++i) {
    __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST);
    getppid();
    if (i % 100 == 0) printf("child at %d\n", i);
  }
  fflush(stdout);
  child_done = 1;
  return 7;
}

int main(void) {
  char* stack = malloc(1 << 16);
  pid_t p = clone(child, stack + (1 << 16), CLONE_VM | SIGCHLD, 0);
  CHECK(p > 0);
  for (int i = 0; i < 300; ++i) {
    __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST);
    struct stat st;
    fstat(1, &st);
  }
  int status = child_status(p);
  printf("child status %d, counter %d, child done %d\n", status, counter, child_done);
  return status == 7 && counter == 600 ? 0 : 1;
}
