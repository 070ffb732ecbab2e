// A syscall ttdb does not model (asynchronous I/O contexts): the recording
// must stop at it rather than make a trace that cannot be replayed.
#include <linux/aio_abi.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  printf("before\n");
  fflush(stdout);
  aio_context_t ctx = 0;
  long r = syscall(SYS_io_setup, 4, &ctx);
  printf("io_setup %ld\n", r);
  syscall(SYS_io_destroy, ctx);
  return 0;
}
