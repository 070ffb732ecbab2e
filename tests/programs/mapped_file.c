/* Maps the file named by argv[1] and prints what it holds. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int main(int argc, char** argv) {
  CHECK(argc == 2);
  int fd = open(argv[1], O_RDONLY);
  CHECK(fd >= 0);
  struct stat st;
  CHECK(fstat(fd, &st) == 0);
  char* data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  CHECK(data != MAP_FAILED);
  close(fd);
  fwrite(data, 1, (size_t)st.st_size, stdout);
  unsigned sum = 0;
  for (off_t i = 0; i < st.st_size; ++i) sum += (unsigned char)data[i];
  printf("\n%lld bytes, sum %u\n", (long long)st.st_size, sum);
  return 0;
}
