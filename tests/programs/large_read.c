/* Reads 8 MiB from /dev/urandom in large reads and hashes it. */
#include <fcntl.h>
#include <unistd.h>

#include "util.h"

int main(void) {
  enum { kChunk = 4 << 20, kTotal = 8 << 20 };
  static unsigned char buffer[kChunk];
  int fd = open("/dev/urandom", O_RDONLY);
  CHECK(fd >= 0);
  unsigned long long hash = 1469598103934665603ull;
  size_t total = 0;
  while (total < kTotal) {
    ssize_t n = read(fd, buffer, kChunk);
    CHECK(n > 0);
    for (ssize_t i = 0; i < n; ++i) hash = (hash ^ buffer[i]) * 1099511628211ull;
    total += (size_t)n;
  }
  printf("%zu bytes, fnv %016llx\n", total, hash);
  return 0;
}
