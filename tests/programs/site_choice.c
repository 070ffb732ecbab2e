/* Three syscall sites of its own, as libc's wrappers are written: one whose
 * syscall the buffer makes (getppid), one whose syscall it never makes
 * (sched_yield), and one whose number comes from its caller. Prints where
 * each function is, and what the calls returned. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SITE(name, set_nr, ...)                                                        \
  __attribute__((noinline)) static long name(__VA_ARGS__) {                            \
    long ret;                                                                          \
    __asm__ volatile(set_nr "\n\tsyscall\n\tcmp $-4095, %%rax\n\tjae 1f\n\tnop\n1:"    \
                     : "=a"(ret)                                                       \
                     : "D"(0)                                                          \
                     : "rcx", "r11", "memory");                                        \
    return ret;                                                                        \
  }

SITE(raw_getppid, "mov $110, %%eax", void)
SITE(raw_sched_yield, "mov $24, %%eax", void)

__attribute__((noinline)) static long raw_any(long nr) {
  long ret;
  __asm__ volatile("mov %1, %%rax\n\tsyscall\n\tcmp $-4095, %%rax\n\tjae 1f\n\tnop\n1:"
                   : "=a"(ret)
                   : "r"(nr)
                   : "rcx", "r11", "memory");
  return ret;
}

int main(void) {
  printf("getppid at %p\nsched_yield at %p\nany at %p\n", (void*)raw_getppid, (void*)raw_sched_yield, (void*)raw_any);
  long parents = 0, yields = 0, any = 0;
  for (int i = 0; i < 50; ++i) {
    parents += raw_getppid() == getppid();
    yields += raw_sched_yield() == 0;
    any += raw_any(SYS_getppid) == getppid();
  }
  printf("%ld %ld %ld\n", parents, yields, any);
  return 0;
}
