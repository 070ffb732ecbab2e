/* The main thread sets a flag and waits in read(); a timer signal, with a
 * handler that does not restart, interrupts the wait while the other
 * thread, which saw the flag, computes on without a syscall. The other
 * thread's code ran after the main thread's entry into read(), so replay
 * must run it after that entry too, though read() returns only later. */
#include <errno.h>
#include <pthread.h>
#include <sys/time.h>
#include <unistd.h>

#include "util.h"

static volatile int flag;
static volatile unsigned long work;

static void on_alarm(int sig) { (void)sig; }

static void* waiter(void* arg) {
  (void)arg;
  long polls = 0;
  while (!flag) polls += getppid() > 0;
  for (unsigned long i = 0; i < 8000000; ++i) work += i;
  CHECK(getppid() > 0);
  return NULL;
}

int main(void) {
  on_signal(SIGALRM, on_alarm, NULL);
  int fds[2];
  CHECK(pipe(fds) == 0);
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, waiter, NULL) == 0);
  struct itimerval once = {{0, 0}, {0, 1000}};
  CHECK(setitimer(ITIMER_REAL, &once, NULL) == 0);
  flag = 1;
  char byte;
  ssize_t got = read(fds[0], &byte, 1);
  printf("read: %s\n", got < 0 && errno == EINTR ? "interrupted" : "returned");
  CHECK(pthread_join(thread, NULL) == 0);
  printf("work %lu\n", work);
  return 0;
}
