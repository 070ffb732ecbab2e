/* rdtsc and rdrand while every signal is blocked, SIGTRAP's action the
 * default, then ignored. ttdb puts an int3 on those instructions (on an
 * rdtsc it cannot move past, as here), whose SIGTRAP the kernel forces
 * through by unblocking it first. The program must find SIGTRAP blocked
 * after each read, as natively: a SIGTRAP raised then stays pending, where
 * an unblocked one would kill it. */
#include <cpuid.h>
#include <signal.h>
#include <stdint.h>

#include "util.h"

static volatile uint32_t low_word;

static void read_counters(void) {
  uint32_t lo, hi;
  /* The store right after rdtsc is not an instruction ttdb moves into a
   * trampoline: the site keeps ttdb's int3. */
  __asm__ volatile("rdtsc\n\tmovl %%eax, (%2)" : "=&a"(lo), "=&d"(hi) : "r"(&low_word) : "memory");
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_RDRND)) {
    uint64_t r = 0;
    __asm__ volatile("rdrand %0" : "=r"(r) : : "cc");
    (void)r;
  }
  (void)hi;
}

static void show(const char* when) {
  struct sigaction now;
  sigset_t mask, pending;
  CHECK(sigaction(SIGTRAP, NULL, &now) == 0);
  CHECK(sigprocmask(SIG_BLOCK, NULL, &mask) == 0);
  CHECK(sigpending(&pending) == 0);
  printf("%s: SIGTRAP %s, %s, %s\n", when, now.sa_handler == SIG_IGN ? "ignored" : "default",
         sigismember(&mask, SIGTRAP) ? "blocked" : "not blocked", sigismember(&pending, SIGTRAP) ? "pending" : "not pending");
}

int main(void) {
  sigset_t all;
  sigfillset(&all);
  CHECK(sigprocmask(SIG_SETMASK, &all, NULL) == 0);
  read_counters();
  show("all blocked, after rdtsc and rdrand");
  CHECK(raise(SIGTRAP) == 0); /* pending: it stays blocked */
  show("raised while blocked");

  CHECK(signal(SIGTRAP, SIG_IGN) != SIG_ERR); /* (the pending one is discarded) */
  read_counters();
  show("ignored and blocked, after rdtsc and rdrand");

  sigset_t none;
  sigemptyset(&none);
  CHECK(sigprocmask(SIG_SETMASK, &none, NULL) == 0);
  read_counters();
  show("ignored, unblocked, after rdtsc and rdrand");
  CHECK(raise(SIGTRAP) == 0); /* ignored */
  puts("raised while ignored: still here");
  return 0;
}
