// Kernel corner (tests/e2e/kernel_test.cc): a program that asks for SIGSEGV
// on rdtsc (PR_SET_TSC) gets it, as it does without ttdb, which traps
// rdtsc for itself; a handler that steps over the instruction goes on.
#include "kernel_common.h"
#include <sys/prctl.h>
#include <sys/ucontext.h>
#include <x86intrin.h>

static volatile int faults;

static void on_segv(int sig, siginfo_t* info, void* context) {
  (void)sig;
  (void)info;
  ++faults;
  ((ucontext_t*)context)->uc_mcontext.gregs[REG_RIP] += 2;  // rdtsc is two bytes
}

int main(void) {
  struct sigaction action = {0};
  action.sa_sigaction = on_segv;
  action.sa_flags = SA_SIGINFO;
  CHECK(sigaction(SIGSEGV, &action, NULL) == 0);
  int mode = 0;
  CHECK(prctl(PR_GET_TSC, &mode) == 0);
  printf("mode at start: %s\n", mode == PR_TSC_ENABLE ? "enabled" : "sigsegv");
  CHECK(prctl(PR_SET_TSC, PR_TSC_SIGSEGV) == 0);
  for (int i = 0; i < 3; ++i) (void)__rdtsc();
  printf("rdtsc faulted %d times\n", faults);
  CHECK(prctl(PR_SET_TSC, PR_TSC_ENABLE) == 0);
  (void)__rdtsc();
  printf("and %d times once enabled again\n", faults);
  return 0;
}
