/* Prints the signal dispositions and mask it started with: a program started
 * in the background of a shell ignores SIGINT and SIGQUIT, and decides by it. */
#include <signal.h>

#include "util.h"

int main(void) {
  int signals[] = {SIGINT, SIGQUIT, SIGHUP, SIGTERM, SIGUSR1};
  sigset_t mask;
  CHECK(sigprocmask(SIG_BLOCK, NULL, &mask) == 0);
  for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; ++i) {
    struct sigaction old;
    CHECK(sigaction(signals[i], NULL, &old) == 0);
    printf("%s: %s%s\n", strsignal(signals[i]), old.sa_handler == SIG_IGN ? "ignored" : "default",
           sigismember(&mask, signals[i]) ? ", blocked" : "");
  }
  return 0;
}
