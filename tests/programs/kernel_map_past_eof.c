// Kernel corner (tests/e2e/kernel_test.cc): a private mapping of a file
// longer than the file. The rest of the file's last page reads as zeros;
// a page wholly past the end raises SIGBUS, as it does natively, and the
// handler jumps back out.
#include "kernel_common.h"
#include <setjmp.h>

static sigjmp_buf back;

static void on_bus(int sig, siginfo_t* info, void* context) {
  (void)context;
  printf("%s, code %d\n", strsignal(sig), info->si_code);
  siglongjmp(back, 1);
}

int main(void) {
  char path[] = "/tmp/ttdb-past-eof-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  CHECK(write(fd, "a file of a few bytes\n", 22) == 22);
  long page = sysconf(_SC_PAGESIZE);
  volatile char* map = mmap(0, 3 * page, PROT_READ, MAP_PRIVATE, fd, 0);
  CHECK(map != MAP_FAILED);
  close(fd);
  unlink(path);
  printf("first bytes: %.6s, byte 100: %d\n", (const char*)map, map[100]);
  struct sigaction action = {0};
  action.sa_sigaction = on_bus;
  action.sa_flags = SA_SIGINFO;
  CHECK(sigaction(SIGBUS, &action, 0) == 0);
  for (int p = 1; p < 3; ++p) {
    if (sigsetjmp(back, 1) == 0) printf("page %d: %d\n", p, map[p * page]);
    else printf("page %d could not be read\n", p);
  }
  return 0;
}
