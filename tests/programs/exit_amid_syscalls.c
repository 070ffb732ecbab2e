/* The main thread calls exit while its siblings are in syscalls: five spin
 * on getppid, one naps, one waits to read a pipe the main thread wrote to
 * before (its read is under way when the process ends). The kernel may
 * finish a sibling's call before the kill reaches it, in the recording and
 * not in replay, or the other way around: the process ends the same either
 * way. */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static int pipe_fds[2];
static volatile int bytes_read;

static void* spin(void* arg) {
  (void)arg;
  for (;;) getppid();
  return NULL;
}

static void* nap(void* arg) {
  (void)arg;
  struct timespec short_nap = {0, 1000};
  for (;;) nanosleep(&short_nap, NULL);
  return NULL;
}

static void* read_pipe(void* arg) {
  (void)arg;
  char c;
  for (;;) {
    CHECK(read(pipe_fds[0], &c, 1) == 1);
    ++bytes_read;
  }
  return NULL;
}

int main(void) {
  CHECK(pipe(pipe_fds) == 0);
  void* (*bodies[])(void*) = {spin, spin, spin, spin, spin, nap, read_pipe};
  for (int i = 0; i < 7; ++i) {
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, bodies[i], NULL) == 0);
  }
  for (int i = 0; i < 50; ++i) CHECK(write(pipe_fds[1], "x", 1) == 1);
  // Until the reader has read them all and waits for more, in its read.
  struct timespec moment = {0, 1000000};
  while (bytes_read < 50) nanosleep(&moment, NULL);
  nanosleep(&moment, NULL);
  printf("main exits\n");
  fflush(stdout);
  exit(7);
}
