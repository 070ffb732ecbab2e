/* Starts a thread, which ttdb cannot record yet. */
#include <pthread.h>

#include "util.h"

static void* run(void* arg) { return arg; }

int main(void) {
  printf("before the thread\n");
  fflush(stdout);
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, run, NULL) == 0);
  pthread_join(thread, NULL);
  printf("after the thread\n");
  return 0;
}
