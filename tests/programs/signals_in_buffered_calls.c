// Signals arrive while buffered syscalls are in flight: a timer fires every
// 50 microseconds while the program makes short calls the syscall buffer
// serves, so signal stops land inside the buffer's own code.
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t ticks;
static void on_tick(int sig) { (void)sig; ticks++; }

int main(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_tick;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval every = {{0, 500}, {0, 500}};
  setitimer(ITIMER_REAL, &every, NULL);
  int fd = open("/proc/self/exe", O_RDONLY);
  long calls = 0, failed = 0;
  char byte;
  struct stat st;
  for (int i = 0; i < 20000; ++i) {
    if (pread(fd, &byte, 1, i % 64) != 1) failed++;
    if (fstat(fd, &st) != 0) failed++;
    calls += 2;
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  printf("%ld calls, %ld failed, ticks %s\n", calls, failed, ticks > 0 ? "came" : "none");
  return failed != 0;
}
