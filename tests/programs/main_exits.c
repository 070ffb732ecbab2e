/* The first thread ends with pthread_exit while another goes on making
 * syscalls: the kernel reports the first thread's end only after the last
 * one's, and the other thread must be able to run meanwhile. (The worker
 * starts once the first thread has printed: its calls may be fast.) */
#include <pthread.h>
#include <unistd.h>

#include "util.h"

static int go[2];

static void* worker(void* arg) {
  (void)arg;
  char byte;
  CHECK(read(go[0], &byte, 1) == 1);
  long calls = 0;
  for (int i = 0; i < 100; ++i) calls += getppid() > 0;
  printf("worker: %ld calls\n", calls);
  fflush(stdout);
  return NULL;
}

int main(void) {
  pthread_t thread;
  CHECK(pipe(go) == 0);
  CHECK(pthread_create(&thread, NULL, worker, NULL) == 0);
  printf("main leaves\n");
  fflush(stdout);
  CHECK(write(go[1], "", 1) == 1);
  pthread_exit(NULL);
}
