/* A syscall of the program's own followed by register moves (`mov
 * %rax,%rdx; neg %rdx`), which the syscall buffer's trampoline runs moved:
 * `after_syscall` labels the first of them. Prints 0. Built -O0. */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((noinline)) static long negated_pid(void) {
  long nr = SYS_getpid, negated;
  __asm__ volatile("syscall\n\t"
                   ".globl after_syscall\n\t"
                   ".type after_syscall, @function\n"
                   "after_syscall:\n\t"
                   "mov %%rax, %%rdx\n\t"
                   "neg %%rdx"
                   : "+a"(nr), "=d"(negated)
                   :
                   : "rcx", "r11", "memory");
  return negated;
}

int main(void) {
  long sum = 0;
  for (int i = 0; i < 100; ++i) sum += negated_pid();
  printf("%ld\n", sum / 100 + getpid());
  return 0;
}
