// A class with a method named write, which calls libc's write: `break
// write` is both, as in gdb.
#include <string.h>
#include <unistd.h>

struct Log {
  int fd;
  void write(const char* text) { ::write(fd, text, strlen(text)); }
};

int main() {
  Log log{1};
  log.write("one\n");
  log.write("two\n");
  return 0;
}
