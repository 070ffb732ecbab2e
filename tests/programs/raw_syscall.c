/* Syscalls made by the program's own `syscall` instructions, not through
 * libc's wrappers: the syscall buffer does not patch these, and they stay
 * traced, mixed with libc's buffered ones. */
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static long raw_getpid(void) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_getpid) : "rcx", "r11", "memory");
  return ret;
}

int main(void) {
  long same = 0;
  for (int i = 0; i < 200; ++i) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    same += raw_getpid() == getpid();
  }
  printf("%ld of 200 agree\n", same);
  return 0;
}
