/* A 64 MiB heap written once, then two threads taking turns on a spin lock
 * without syscalls: the recorder preempts the spinner again and again, and
 * each preemption's snapshot needs only the few pages written since the
 * last one, not the heap. Prints a digest of the heap and the counter. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "util.h"

enum { kHeap = 64 << 20, kRounds = 4 };

static atomic_int turn;
static long counter;
static unsigned char* heap;

static void take_turns(int me) {
  for (int round = 0; round < kRounds; ++round) {
    while (atomic_load(&turn) != me) {
    }
    /* A long stretch holding the turn, writing one page of the heap. */
    for (unsigned long i = 0; i < 30000000; ++i) counter += i & 1;
    heap[(round * 2 + me) * 4096] ^= 0x5a;
    atomic_store(&turn, 1 - me);
  }
}

static void* other(void* arg) {
  (void)arg;
  take_turns(1);
  return NULL;
}

int main(void) {
  heap = malloc(kHeap);
  CHECK(heap != NULL);
  for (long i = 0; i < kHeap; ++i) heap[i] = (unsigned char)(i * 2654435761u >> 13);
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, other, NULL) == 0);
  take_turns(0);
  CHECK(pthread_join(thread, NULL) == 0);
  unsigned long digest = 0;
  for (long i = 0; i < kHeap; i += 64) digest = digest * 31 + heap[i];
  printf("counter %ld digest %lx\n", counter, digest);
  return 0;
}
