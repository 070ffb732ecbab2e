/* Two threads, each mapping, protecting and unmapping memory and blocking
 * and unblocking a signal, 100 rounds, while the other does the same: the
 * calls the syscall buffer makes, from a process of several threads. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

static void* rounds(void* arg) {
  uintptr_t seed = (uintptr_t)arg;
  uint64_t sum = seed;
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  for (int round = 0; round < 100; ++round) {
    unsigned char* p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    p[0] = (unsigned char)(round + seed);
    p[4096] = (unsigned char)round;
    mprotect(p, 4096, PROT_READ);
    sum = sum * 31 + p[0] + p[4096];
    munmap(p, 8192);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
  }
  return (void*)(uintptr_t)sum;
}

int main(void) {
  pthread_t threads[2];
  for (uintptr_t i = 0; i < 2; ++i) pthread_create(&threads[i], NULL, rounds, (void*)(i + 1));
  for (int i = 0; i < 2; ++i) {
    void* sum;
    pthread_join(threads[i], &sum);
    printf("thread %d: %llx\n", i, (unsigned long long)(uintptr_t)sum);
  }
  return 0;
}
