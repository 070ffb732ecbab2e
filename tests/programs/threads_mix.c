/* Two threads keep making syscalls (traced and buffered) while a timer
 * signal comes every 2 ms and the main thread forks children that write to
 * a pipe, waits for them (SIGCHLD may go to any thread, and the wait
 * restarts by itself when another thread takes it; the timer's handler has
 * no SA_RESTART, so a wait it interrupts is made again), maps memory and
 * loads a library. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static volatile int done;
static volatile long ticks;

static void on_alarm(int sig) {
  (void)sig;
  ++ticks;
}

static void* busy(void* arg) {
  (void)arg;
  long calls = 0;
  while (!done) {
    struct timespec now;
    calls += getppid() > 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    /* A traced call too, which paces the loop: the buffer makes the others
     * as fast as natively (millions of events otherwise). */
    usleep(100);
  }
  return (void*)calls;
}

int main(void) {
  on_signal(SIGALRM, on_alarm, NULL);
  struct itimerval timer = {{0, 2000}, {0, 2000}};
  CHECK(setitimer(ITIMER_REAL, &timer, NULL) == 0);
  pthread_t threads[2];
  for (int i = 0; i < 2; ++i) CHECK(pthread_create(&threads[i], NULL, busy, NULL) == 0);
  for (int round = 0; round < 20; ++round) {
    void* block = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(block != MAP_FAILED);
    memset(block, round, 1 << 20);
    CHECK(munmap(block, 1 << 20) == 0);
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
      char letter = (char)('x' + round % 3);
      _exit(write(fds[1], &letter, 1) == 1 ? 0 : 1);
    }
    char got = 0;
    while (read(fds[0], &got, 1) < 0) {
    }
    int status;
    pid_t waited;
    while ((waited = waitpid(child, &status, 0)) < 0 && errno == EINTR) {
    }
    CHECK(waited == child && WIFEXITED(status));
    close(fds[0]);
    close(fds[1]);
    printf("round %d: %c\n", round, got);
  }
  void* libm = dlopen("libm.so.6", RTLD_NOW);
  double (*cosine)(double) = libm ? (double (*)(double))dlsym(libm, "cos") : NULL;
  printf("cos(0.5) = %.6f\n", cosine ? cosine(0.5) : -1.0);
  done = 1;
  for (int i = 0; i < 2; ++i) CHECK(pthread_join(threads[i], NULL) == 0);
  printf("the timer fired: %s\n", ticks > 0 ? "yes" : "no");
  return 0;
}
