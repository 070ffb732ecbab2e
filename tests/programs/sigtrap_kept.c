/* rdtsc and rdrand while SIGTRAP is ignored, then handled but blocked. ttdb
 * puts an int3 on those instructions, whose SIGTRAP the kernel forces
 * through: it would make an ignored SIGTRAP's action the default, and a
 * blocked one unblocked with its handler gone. What the program set must
 * hold after each read, as it does natively. */
#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <x86intrin.h>

#include "util.h"

static volatile sig_atomic_t handled;

static void on_trap(int sig) {
  (void)sig;
  handled = 1;
}

static uint64_t read_rdrand(void) {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & bit_RDRND)) return 0;
  uint64_t r = 0;
  __asm__ volatile("rdrand %0" : "=r"(r) : : "cc");
  return r;
}

static void show(const char* when) {
  struct sigaction now;
  sigset_t mask;
  CHECK(sigaction(SIGTRAP, NULL, &now) == 0);
  CHECK(sigprocmask(SIG_BLOCK, NULL, &mask) == 0);
  printf("%s: SIGTRAP %s, %s\n", when,
         now.sa_handler == SIG_IGN ? "ignored" : now.sa_handler == on_trap ? "handled" : "default",
         sigismember(&mask, SIGTRAP) ? "blocked" : "not blocked");
}

int main(void) {
  CHECK(signal(SIGTRAP, SIG_IGN) != SIG_ERR);
  uint64_t sum = __rdtsc();
  sum += read_rdrand();
  show("ignored, after rdtsc and rdrand");
  CHECK(raise(SIGTRAP) == 0);  /* ignored: nothing happens */
  puts("raised while ignored: still here");

  struct sigaction act = {0};
  act.sa_handler = on_trap;
  CHECK(sigaction(SIGTRAP, &act, NULL) == 0);
  sigset_t trap;
  sigemptyset(&trap);
  sigaddset(&trap, SIGTRAP);
  CHECK(sigprocmask(SIG_BLOCK, &trap, NULL) == 0);
  sum += __rdtsc();
  sum += read_rdrand();
  show("handled and blocked, after rdtsc and rdrand");
  CHECK(raise(SIGTRAP) == 0);  /* pending until unblocked */
  printf("raised while blocked: handled %d\n", (int)handled);
  CHECK(sigprocmask(SIG_UNBLOCK, &trap, NULL) == 0);
  printf("unblocked: handled %d\n", (int)handled);
  printf("time read: %d\n", sum != 0);
  return 0;
}
