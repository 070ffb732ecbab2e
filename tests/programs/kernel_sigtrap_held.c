// Kernel corner (tests/e2e/kernel_test.cc): a program that blocks SIGTRAP,
// or ignores it, or catches it while it is blocked, through long runs of
// calls the syscall buffer makes (its records are taken many times) and
// signal actions the shim keeps in replay, with a timer's signals coming
// all along (some while the shim makes a call, which it then ends through
// an int3 for the recorder to deliver them). An int3 of ttdb's own raises a
// SIGTRAP the kernel forces through, which would unblock it and undo the
// action: the program finds SIGTRAP as it left it, recorded and replayed.
#include "kernel_common.h"
#include <sys/time.h>
#include <time.h>

static volatile int caught, alarms;
static void on_trap(int sig) { caught = sig; }
static void on_alarm(int sig) { alarms += sig == SIGALRM; }

static long long read_the_clock(int times) {
  long long bits = 0;
  for (int i = 0; i < times; ++i) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    bits += ts.tv_nsec & 1;
  }
  return bits;
}

static void show(const char* when) {
  sigset_t now;
  struct sigaction act;
  CHECK(sigprocmask(SIG_BLOCK, NULL, &now) == 0);
  CHECK(sigaction(SIGTRAP, NULL, &act) == 0);
  printf("%s: SIGTRAP blocked %d, ignored %d, caught by on_trap %d\n", when, sigismember(&now, SIGTRAP),
         act.sa_handler == SIG_IGN, act.sa_handler == on_trap);
}

int main(void) {
  sigset_t trap;
  sigemptyset(&trap);
  sigaddset(&trap, SIGTRAP);
  long long bits = 0;
  struct sigaction alarm_act;
  memset(&alarm_act, 0, sizeof alarm_act);
  alarm_act.sa_handler = on_alarm;
  alarm_act.sa_flags = SA_RESTART;
  CHECK(sigaction(SIGALRM, &alarm_act, NULL) == 0);
  struct itimerval every = {{0, 200}, {0, 200}};
  CHECK(setitimer(ITIMER_REAL, &every, NULL) == 0);

  CHECK(sigprocmask(SIG_BLOCK, &trap, NULL) == 0);
  CHECK(signal(SIGTRAP, SIG_IGN) != SIG_ERR);
  bits += read_the_clock(100000);
  show("blocked and ignored");

  CHECK(sigprocmask(SIG_UNBLOCK, &trap, NULL) == 0);
  bits += read_the_clock(100000);
  show("ignored");

  struct sigaction act;
  memset(&act, 0, sizeof act);
  act.sa_handler = on_trap;
  CHECK(sigaction(SIGTRAP, &act, NULL) == 0);
  CHECK(sigprocmask(SIG_BLOCK, &trap, NULL) == 0);
  bits += read_the_clock(100000);
  show("caught and blocked");
  struct itimerval off = {{0, 0}, {0, 0}};
  CHECK(setitimer(ITIMER_REAL, &off, NULL) == 0);
  printf("the timer's signals came: %d\n", alarms > 0);
  CHECK(sigprocmask(SIG_UNBLOCK, &trap, NULL) == 0);
  raise(SIGTRAP);
  printf("its own SIGTRAP caught: %d (%d)\n", caught == SIGTRAP, bits >= 0);
  return 0;
}
