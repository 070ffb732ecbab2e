/* A thread with state of its own in the kernel: an alternate signal stack,
 * a signal mask, and a robust mutex it still holds when it ends (its robust
 * list). It makes syscalls for a while, then prints what the kernel says of
 * its state; the main thread joins it (the kernel clears its tid address at
 * its end) and finds the mutex's owner dead. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "util.h"

enum { kRounds = 400 };

static pthread_mutex_t robust;
static char altstack[64 * 1024];

static void* worker(void* arg) {
  (void)arg;
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  CHECK(sigaltstack(&ss, NULL) == 0);
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigaddset(&block, SIGWINCH);
  CHECK(pthread_sigmask(SIG_BLOCK, &block, NULL) == 0);
  CHECK(pthread_mutex_lock(&robust) == 0);
  long sum = 0;
  /* (Traced calls: a stop each, where the checkpoints go.) */
  for (int i = 0; i < kRounds; ++i) sum += sched_yield() == 0;
  stack_t now;
  CHECK(sigaltstack(NULL, &now) == 0);
  sigset_t mask;
  CHECK(pthread_sigmask(SIG_BLOCK, NULL, &mask) == 0);
  printf("worker: %ld rounds, altstack %s %zu bytes, SIGUSR1 %s, SIGWINCH %s\n", sum,
         now.ss_sp == altstack ? "ours" : "other", now.ss_size, sigismember(&mask, SIGUSR1) ? "blocked" : "open",
         sigismember(&mask, SIGWINCH) ? "blocked" : "open");
  fflush(stdout);
  return NULL;  /* still holding the mutex */
}

int main(void) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  CHECK(pthread_mutex_init(&robust, &attr) == 0);
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, worker, NULL) == 0);
  CHECK(pthread_join(thread, NULL) == 0);
  int locked = pthread_mutex_lock(&robust);
  printf("joined; the mutex's owner %s\n", locked == EOWNERDEAD ? "died" : "lives");
  return 0;
}
