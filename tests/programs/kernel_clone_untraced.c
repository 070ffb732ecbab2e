// Kernel corner (tests/e2e/kernel_test.cc): a child made with CLONE_UNTRACED,
// which would be hidden from a tracer, by clone and by clone3.
#include "kernel_common.h"
#include <linux/sched.h>
#include <sched.h>

static int child(void* arg) {
  (void)arg;
  write(1, "clone child ran\n", 16);
  return 3;
}

int main(void) {
  char* stack = malloc(1 << 16);
  pid_t p = clone(child, stack + (1 << 16), CLONE_UNTRACED | SIGCHLD, 0);
  CHECK(p > 0);
  printf("clone child status %d\n", child_status(p));
  struct clone_args args = {.flags = CLONE_UNTRACED, .exit_signal = SIGCHLD};
  long q = syscall(SYS_clone3, &args, sizeof args);
  if (q == 0) {
    write(1, "clone3 child ran\n", 17);
    _exit(4);
  }
  CHECK(q > 0);
  printf("clone3 child status %d\n", child_status((pid_t)q));
  return 0;
}
