// The loader binds a library function at its first call (lazily), in a
// trampoline whose xsavec a replay that travels runs itself behind an
// int3, and an int3's SIGTRAP is forced through: it unblocks a blocked
// SIGTRAP and resets an ignored one. The program calls functions for the
// first time with SIGTRAP blocked, then ignored, and must find it as it
// left it each time.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void show(const char* when) {
  sigset_t now;
  struct sigaction act;
  sigprocmask(SIG_BLOCK, NULL, &now);
  sigaction(SIGTRAP, NULL, &act);
  printf("%s: SIGTRAP blocked %d, ignored %d\n", when, sigismember(&now, SIGTRAP), act.sa_handler == SIG_IGN);
}

// (Not constants: the compiler would work them out itself.)
static const char* volatile seven = "7";
static const char* volatile text = "aab";

int main(void) {
  sigset_t trap;
  sigemptyset(&trap);
  sigaddset(&trap, SIGTRAP);
  sigprocmask(SIG_BLOCK, &trap, NULL);
  long sum = atoi(seven) + (long)strspn(text, "a");  // first calls, SIGTRAP blocked
  show("blocked");
  sigprocmask(SIG_UNBLOCK, &trap, NULL);
  show("unblocked");
  signal(SIGTRAP, SIG_IGN);
  sum += (long)strcspn(text, "b") + atol(seven);  // first calls, SIGTRAP ignored
  show("ignored");
  printf("sum %ld\n", sum);
  return 0;
}
