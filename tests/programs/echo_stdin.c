/* Echoes stdin to stdout in small reads. */
#include <unistd.h>

int main(void) {
  char buffer[16];
  ssize_t n;
  while ((n = read(0, buffer, sizeof buffer)) > 0)
    if (write(1, buffer, (size_t)n) != n) return 1;
  return 0;
}
