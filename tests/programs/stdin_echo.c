/* Reads all of stdin and prints its length, a checksum and its first line. */
#include <string.h>
#include <unistd.h>

#include "util.h"

int main(void) {
  static char data[1 << 20];
  size_t total = 0;
  ssize_t n;
  while ((n = read(0, data + total, sizeof data - total)) > 0) total += (size_t)n;
  unsigned long sum = 0;
  for (size_t i = 0; i < total; ++i) sum = sum * 31 + (unsigned char)data[i];
  char* newline = memchr(data, '\n', total);
  printf("%zu bytes, checksum %lx, first line: %.*s\n", total, sum,
         (int)(newline ? newline - data : (long)total), data);
  return 0;
}
