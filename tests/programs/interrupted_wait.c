/* The main thread sets a flag and waits in read(); a timer signal, with a
 * handler that does not restart, interrupts the wait while the other
 * thread, which saw the flag, computes on without a syscall. The other
 * thread's code ran after the main thread's entry into read(), so replay
 * must run it after that entry too, though read() returns only later. */
#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
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
  /* The timer's signal goes to this thread (a process-wide one goes to
   * any thread that can take it, and a tracer often has this one stopped
   * when it comes), and comes every millisecond until read() is
   * interrupted: on a loaded machine the first tick may come before this
   * thread reaches read(). Either way read() waited for good. */
  struct sigevent to_me = {0};
  to_me.sigev_notify = SIGEV_THREAD_ID;
  to_me.sigev_signo = SIGALRM;
  to_me._sigev_un._tid = (pid_t)syscall(SYS_gettid);
  timer_t timer;
  CHECK(timer_create(CLOCK_MONOTONIC, &to_me, &timer) == 0);
  struct itimerspec ticks = {{0, 1000000}, {0, 1000000}};
  CHECK(timer_settime(timer, 0, &ticks, NULL) == 0);
  flag = 1;
  char byte;
  ssize_t got = read(fds[0], &byte, 1);
  struct itimerspec off = {{0, 0}, {0, 0}};
  CHECK(timer_settime(timer, 0, &off, NULL) == 0);
  printf("read: %s\n", got < 0 && errno == EINTR ? "interrupted" : "returned");
  CHECK(pthread_join(thread, NULL) == 0);
  printf("work %lu\n", work);
  return 0;
}
