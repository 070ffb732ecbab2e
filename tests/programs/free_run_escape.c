/* Reads a file a byte at a time (inside the syscall buffer), mapping and
 * unmapping memory between reads (calls replay makes inside the buffer
 * too, the thread running without syscall stops): at an 'x', it writes
 * "ESCAPED" with its own `syscall` instruction, followed by a store
 * through a pointer, which the buffer leaves alone. The recording reads no
 * 'x'; a test changes a recorded read to one, and replay must refuse the
 * write rather than make it. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static long raw_write(const char* text, long size, long* out) {
  long ret = SYS_write;
  __asm__ volatile("syscall\n\tmov %%rax, (%4)"
                   : "+a"(ret)
                   : "D"(1L), "S"(text), "d"(size), "r"(out)
                   : "rcx", "r11", "memory");
  return ret;
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) return 3;
  long reads = 0, written = 0;
  char c;
  while (read(fd, &c, 1) == 1) {
    void* p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 4;
    if (c == 'x') raw_write("ESCAPED\n", 8, &written);
    munmap(p, 4096);
    ++reads;
  }
  printf("%ld reads\n", reads);
  return 0;
}
