/* Says it is ready, then waits in pause() for SIGINT, SIGTERM and SIGCHLD
 * sent from outside, and reports them in the order they came. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static volatile sig_atomic_t received[8];
static volatile sig_atomic_t count;

static void record_signal(int sig, siginfo_t* info, void* context) {
  (void)context;
  (void)info;
  if (count < 8) received[count] = sig;
  ++count;
}

int main(void) {
  on_signal(SIGINT, NULL, record_signal);
  on_signal(SIGTERM, NULL, record_signal);
  on_signal(SIGCHLD, NULL, record_signal);
  printf("ready %d\n", getpid());
  fflush(stdout);
  while (count < 3) pause();
  printf("got");
  for (int i = 0; i < count && i < 8; ++i) printf(" %s", strsignal(received[i]));
  printf("\n");
  return 0;
}
