/* Two syscall sites of its own, both of getpid, N times each:
 *   - one whose first instruction after the syscall is a branch on flags
 *     set before it (a comparison made before the call): the syscall keeps
 *     the flags, so the branch sees that comparison;
 *   - one as glibc writes them (cmp rax, -4095 right after the syscall).
 * Prints how often the branch went each way, and the second site's calls. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* 1 when x == 1, decided by a branch right after the syscall (a 32-bit
 * displacement, so that the branch and the syscall cover the 5 bytes a
 * patch would need). */
__attribute__((noinline)) static int equal_to_one_across(long x) {
  int r;
  __asm__ volatile(
      "cmp $1, %[x]\n\t"
      "mov $39, %%eax\n\t"
      "syscall\n\t"
      "%{disp32%} jne 1f\n\t"
      "mov $1, %[r]\n\t"
      "jmp 2f\n"
      "1:\n\t"
      "mov $0, %[r]\n"
      "2:"
      : [r] "=r"(r)
      : [x] "r"(x)
      : "rax", "rcx", "r11", "memory", "cc");
  return r;
}

__attribute__((noinline)) static long plain_getpid(void) {
  long r;
  __asm__ volatile(
      "mov $39, %%eax\n\t"
      "syscall\n\t"
      "cmp $-4095, %%rax\n\t"
      "jae 1f\n"
      "1:"
      : "=a"(r)
      :
      : "rcx", "r11", "memory", "cc");
  return r;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000;
  long ones = 0, others = 0, same = 0;
  for (long i = 0; i < n; ++i) {
    if (equal_to_one_across(i % 3 == 0 ? 1 : 2)) ++ones;
    else ++others;
    if (plain_getpid() == getpid()) ++same;
  }
  printf("branch: %ld equal, %ld not; plain site: %ld of %ld right\n", ones, others, same, n);
  return 0;
}
