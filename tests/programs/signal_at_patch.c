/* Signals the kernel gives while ttdb holds the program between syscalls.
 * First one the program sends itself, pending at a syscall's exit where
 * ttdb runs syscalls of its own in the program (it patches sites a search
 * found meanwhile, in code mapped far from any trampoline: a new page for
 * them). Natively a handled signal runs its handler before tgkill returns,
 * and an ignored one is gone, whatever handler comes later. The program maps
 * a page of its own file (as dlopen would), computes while the search of it
 * ends, then sends the signal with tgkill, first ignored, then handled.
 * Then a timer's signal, ignored, that comes while the program computes:
 * gone too, though the program installs a handler right after. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "util.h"

static volatile sig_atomic_t handled;

static void on_usr(int sig) {
  (void)sig;
  handled += 1;
}

__attribute__((noinline)) unsigned long long read_tsc(void) { return __rdtsc(); }

/* Maps the pages of read_tsc again at `where`, far from any code. A size
 * not mapped before: a range the site cache does not know. */
static unsigned long long (*map_again(uintptr_t where, size_t size))(void) {
  long at = offset_in_file((uintptr_t)read_tsc);
  CHECK(at >= 0);
  int fd = open("/proc/self/exe", O_RDONLY);
  CHECK(fd >= 0);
  long page = at & ~4095L;
  void* want = (void*)where;
  unsigned char* code = mmap(want, size, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, page);
  CHECK(code == want);
  close(fd);
  return (unsigned long long (*)(void))(code + (at - page));
}

static void spin(void) {
  volatile unsigned long sum = 0;
  for (unsigned long i = 0; i < 100000000UL; ++i) sum += i;
}

/* A few milliseconds of work without syscalls, where the timer goes off. */
static void spin_a_little(void) {
  volatile unsigned long sum = 0;
  for (unsigned long i = 0; i < 10000000UL; ++i) sum += i;
}

static void send_self(int sig) { CHECK(syscall(SYS_tgkill, syscall(SYS_getpid), syscall(SYS_gettid), sig) == 0); }

int main(void) {
  struct sigaction ignore = {0}, handle = {0};
  ignore.sa_handler = SIG_IGN;
  handle.sa_handler = on_usr;
  CHECK(sigaction(SIGUSR1, &ignore, NULL) == 0);
  CHECK(sigaction(SIGUSR2, &handle, NULL) == 0);

  unsigned long long (*mapped)(void) = map_again(0x100000000000ULL, 8192);
  spin();
  send_self(SIGUSR1);
  CHECK(sigaction(SIGUSR1, &handle, NULL) == 0);
  printf("ignored, then handled: handler ran %d times\n", (int)handled);

  printf("time read: %d\n", mapped() != 0);
  mapped = map_again(0x200000000000ULL, 12288);
  spin();
  send_self(SIGUSR2);
  int right_away = handled;
  printf("handled: handler ran %d times when tgkill returned\n", right_away);
  printf("time read: %d\n", mapped() != 0);

  handled = 0;
  CHECK(sigaction(SIGALRM, &ignore, NULL) == 0);
  struct itimerval once = {{0, 0}, {0, 200}};
  CHECK(setitimer(ITIMER_REAL, &once, NULL) == 0);
  spin_a_little();
  CHECK(sigaction(SIGALRM, &handle, NULL) == 0);
  printf("timer ignored, then handled: handler ran %d times\n", (int)handled);
  return 0;
}
