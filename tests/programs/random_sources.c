/* Bytes from /dev/urandom and getrandom(), and what they seed. */
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include "util.h"

int main(void) {
  unsigned char bytes[16];
  int fd = open("/dev/urandom", O_RDONLY);
  CHECK(fd >= 0);
  CHECK(read(fd, bytes, sizeof bytes) == sizeof bytes);
  print_hex("urandom", bytes, sizeof bytes);
  CHECK(getrandom(bytes, sizeof bytes, 0) == sizeof bytes);
  print_hex("getrandom", bytes, sizeof bytes);
  srandom(bytes[0] | bytes[1] << 8);
  printf("random %ld\n", random());
  return 0;
}
