/* Blocks SIGUSR1, sends it to itself, and unblocks it, 200 times, with
 * rt_sigprocmask through glibc's syscall() (a site the syscall buffer
 * patches): the handler must run as the unblocking call returns, before
 * the program's next statement, and never while the signal is blocked. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_usr1(int sig) {
  (void)sig;
  handled++;
}

int main(void) {
  signal(SIGUSR1, on_usr1);
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  int early = 0, late = 0;
  for (int i = 0; i < 200; ++i) {
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &usr1, &old, 8);
    kill(getpid(), SIGUSR1);
    early += handled != i;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
    late += handled != i + 1;
  }
  printf("handled %d, early %d, late %d\n", (int)handled, early, late);
  return 0;
}
