/* Dies: "segv" by a null pointer, "abort" by abort(). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int main(int argc, char** argv) {
  CHECK(argc == 2);
  printf("about to %s\n", argv[1]);
  fflush(stdout);
  if (strcmp(argv[1], "segv") == 0) *(volatile int*)0 = 42;
  if (strcmp(argv[1], "abort") == 0) abort();
  return 3;
}
