/* The stack canary and pointer guard come from AT_RANDOM. */
#include <stdint.h>
#include <sys/auxv.h>

#include "util.h"

int main(void) {
  uintptr_t canary, guard;
  __asm__("mov %%fs:0x28, %0" : "=r"(canary));
  __asm__("mov %%fs:0x30, %0" : "=r"(guard));
  const unsigned char* random = (const unsigned char*)getauxval(AT_RANDOM);
  print_hex("at_random", random, 16);
  printf("canary %016lx guard %016lx\n", (unsigned long)canary, (unsigned long)guard);
  return 0;
}
