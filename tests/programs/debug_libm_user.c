/* Linked with libm, which the loader maps before libc: libc is at another
 * address than in a program without it (debug_exec_other runs this). */
#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"

int main(int argc, char** argv) {
  (void)argv;
  volatile double x = 0.5 + argc;
  volatile int* number = mmap((void*)0x10000000, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  CHECK(number == (volatile int*)0x10000000);
  char line[64];
  for (int i = 0; i < 3; ++i) {
    *number = i + 1;
    snprintf(line, sizeof line, "child writes %d: %.3f\n", i, cos(x + i));
    CHECK(write(1, line, strlen(line)) == (ssize_t)strlen(line));
  }
  return 0;
}
