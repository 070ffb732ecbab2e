// Code with rdtsc, which ttdb's scan gives an int3, unmapped by a buffered
// munmap after thousands of buffered clock reads (one large take of the
// syscall buffer's records), then new code at the same place whose own
// int3 must reach the program's SIGTRAP handler: ttdb has to have seen the
// unmapping among those records, or it takes that int3 for its own.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t trapped;

static void on_trap(int sig) {
  (void)sig;
  trapped = 1;
}

int main(void) {
  char path[] = "/tmp/ttdb-code-XXXXXX";
  int fd = mkstemp(path);
  static const unsigned char tsc_then_return[] = {0x0f, 0x31, 0xc3};
  if (fd < 0 || write(fd, tsc_then_return, sizeof tsc_then_return) != sizeof tsc_then_return || ftruncate(fd, 4096) != 0)
    return 1;
  void* code = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
  close(fd);
  unlink(path);
  if (code == MAP_FAILED) return 1;
  ((void (*)(void))code)();

  long odd = 0;
  for (int i = 0; i < 4000; ++i) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    odd += now.tv_nsec & 1;
  }
  munmap(code, 4096);

  unsigned char* again = mmap(code, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (again == MAP_FAILED) return 1;
  again[0] = 0xcc;  // int3
  again[1] = 0xc3;  // ret
  if (mprotect(again, 4096, PROT_READ | PROT_EXEC) != 0) return 1;
  signal(SIGTRAP, on_trap);
  ((void (*)(void))again)();
  printf("%s after %s clock reads\n", trapped ? "trapped" : "no trap", odd >= 0 ? "4000" : "no");
  return 0;
}
