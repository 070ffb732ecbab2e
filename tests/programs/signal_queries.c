/* Reads every signal's action, as shells do at their start, and its mask,
 * between calls that change them: what it reads must be what was set. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static volatile sig_atomic_t caught;
static void on_usr1(int sig) { caught = sig; }

static int handled(void) {
  int count = 0;
  for (int sig = 1; sig < 32; ++sig) {
    struct sigaction old;
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    CHECK(sigaction(sig, NULL, &old) == 0);
    count += old.sa_handler != SIG_DFL;
  }
  return count;
}

int main(void) {
  printf("handled at start: %d\n", handled());
  struct sigaction act;
  memset(&act, 0, sizeof act);
  act.sa_handler = on_usr1;
  CHECK(sigaction(SIGUSR1, &act, NULL) == 0);
  act.sa_handler = SIG_IGN;
  CHECK(sigaction(SIGPIPE, &act, NULL) == 0);
  printf("handled after two: %d\n", handled());
  sigset_t block, now;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR2);
  CHECK(sigprocmask(SIG_BLOCK, &block, NULL) == 0);
  CHECK(sigprocmask(SIG_BLOCK, NULL, &now) == 0);
  printf("SIGUSR2 blocked: %d, SIGUSR1 blocked: %d\n", sigismember(&now, SIGUSR2), sigismember(&now, SIGUSR1));
  raise(SIGUSR1);
  printf("caught %d\n", caught);
  return 0;
}
