/* Writes its output a line at a time with write(2), to stdout and stderr
 * in turn: what replay re-emits, in the order it was written. */
#include <stdio.h>
#include <unistd.h>

#include "util.h"

int main(void) {
  char line[64];
  for (int i = 0; i < 300; ++i) {
    int n = snprintf(line, sizeof line, "line %d\n", i);
    CHECK(write(1, line, (size_t)n) == n);
    if (i % 3 == 0) {
      n = snprintf(line, sizeof line, "note %d\n", i);
      CHECK(write(2, line, (size_t)n) == n);
    }
  }
  return 0;
}
