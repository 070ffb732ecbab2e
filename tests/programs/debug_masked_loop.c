/* glibc's sigprocmask: its syscall is followed by `mov %eax,%edx; neg
 * %edx`, which the syscall buffer's trampoline runs moved. A SIGALRM every
 * millisecond lands among the calls, some while SIGALRM is blocked: it
 * waits for the call that unblocks it. Built -O0. */
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>

static volatile sig_atomic_t alarms;

static void on_alarm(int sig) {
  (void)sig;
  alarms++;
}

static int mask_once(void) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGALRM);
  int blocked = sigprocmask(SIG_BLOCK, &block, &old);
  int restored = sigprocmask(SIG_SETMASK, &old, NULL);
  return blocked + restored + (sigismember(&old, SIGALRM) ? 100 : 0);
}

int main(void) {
  signal(SIGALRM, on_alarm);
  struct itimerval every = {{0, 1000}, {0, 1000}}, off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &every, NULL);
  long rounds = 0, bad = 0;
  while (alarms < 20) {
    bad += mask_once() != 0;
    rounds++;
  }
  setitimer(ITIMER_REAL, &off, NULL);
  /* (One more may come before the timer stops, on a busy machine.) */
  printf("rounds %ld, %s alarms, %ld bad\n", rounds, alarms >= 20 ? "20 or more" : "fewer than 20", bad);
  return 0;
}
