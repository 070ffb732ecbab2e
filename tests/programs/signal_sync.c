/* Faults the program raises itself: they recur at the same instruction. */
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include "util.h"

static sigjmp_buf recover;
static volatile int faults;

static void on_fault(int sig, siginfo_t* info, void* context) {
  (void)context;
  printf("caught %s code %d addr %p\n", sig == SIGSEGV ? "SIGSEGV" : "SIGFPE", info->si_code,
         sig == SIGSEGV ? info->si_addr : (void*)0);
  ++faults;
  siglongjmp(recover, 1);
}

int main(void) {
  on_signal(SIGSEGV, NULL, on_fault);
  on_signal(SIGFPE, NULL, on_fault);
  if (!sigsetjmp(recover, 1)) *(volatile int*)16 = 1;
  if (!sigsetjmp(recover, 1)) {
    volatile int zero = 0, numerator = 100;
    printf("%d\n", numerator / zero);
  }
  if (!sigsetjmp(recover, 1)) raise(SIGSEGV);
  printf("faults %d\n", faults);
  return 0;
}
