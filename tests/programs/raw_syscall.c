/* Syscalls made by the program's own `syscall` instructions, not through
 * libc's wrappers, mixed with libc's: one followed by a store through a
 * pointer, which a trampoline could not run without risking a fault of its
 * own (the syscall buffer leaves it alone: it stays traced), and one
 * followed by register moves, which the trampoline runs moved. */
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static long raw_getpid_into(long* out) {
  long ret = SYS_getpid;
  __asm__ volatile("syscall\n\tmov %%rax, (%1)" : "+a"(ret) : "D"(out) : "rcx", "r11", "memory");
  return ret;
}

static long raw_getpid_negated(void) {
  long nr = SYS_getpid, negated;
  __asm__ volatile("syscall\n\tmov %%rax, %%rdx\n\tneg %%rdx" : "+a"(nr), "=d"(negated) : : "rcx", "r11", "memory");
  return -negated;
}

int main(void) {
  long same = 0;
  for (int i = 0; i < 200; ++i) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long stored = 0;
    raw_getpid_into(&stored);
    same += stored == getpid() && raw_getpid_negated() == getpid();
  }
  printf("%ld of 200 agree\n", same);
  return 0;
}
