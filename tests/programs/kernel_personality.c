// Kernel corner (tests/e2e/kernel_test.cc): the persona a program sees, and
// sets for the program it execs, is its own (ttdb turns address
// randomization off underneath).
#include "kernel_common.h"
#include <sys/personality.h>

int main(int argc, char** argv) {
  if (argc > 1) {
    int p = personality(0xffffffff);
    printf("after exec: no randomization %d, read implies exec %d\n", !!(p & ADDR_NO_RANDOMIZE), !!(p & READ_IMPLIES_EXEC));
    return 0;
  }
  int old = personality(0xffffffff);
  printf("persona at start: %#x\n", old);
  old = personality(READ_IMPLIES_EXEC);
  printf("previous persona: %#x, now %#x\n", old, personality(0xffffffff));
  execl("/proc/self/exe", argv[0], "x", (char*)0);
  return 1;
}
