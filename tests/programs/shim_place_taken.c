/* A program whose own memory, from the moment it starts, covers every place
 * ttdb may put its syscall buffer (1 GiB to 2 GiB): a zeroed array the
 * build links there (tests/CMakeLists.txt). The recording cannot map the
 * buffer, says so, and records the program without it. */
#include "util.h"

static char taken[0x48000000]; /* from about 0x3f000000 to past 2 GiB */

int main(void) {
  taken[0x20000000] = 1;
  printf("%d\n", taken[0x20000000] + taken[0x30000000]);
  return 0;
}
