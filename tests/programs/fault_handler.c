/* Sets a handler for SIGSEGV and faults right after, with no other syscall
 * between: the handler must run, and see the address that faulted. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static void on_segv(int sig, siginfo_t* info, void* context) {
  (void)context;
  char line[64];
  int n = snprintf(line, sizeof line, "signal %d at %p\n", sig, info->si_addr);
  if (write(1, line, (size_t)n) != n) _exit(2);
  _exit(0);
}

int main(void) {
  printf("faulting\n");
  fflush(stdout);
  struct sigaction act;
  memset(&act, 0, sizeof act);
  act.sa_sigaction = on_segv;
  act.sa_flags = SA_SIGINFO;
  CHECK(sigaction(SIGSEGV, &act, NULL) == 0);
  *(volatile int*)0x1234 = 1;
  printf("not reached\n");
  return 1;
}
