/* rdtsc wherever a program may run it while ttdb lets it run natively:
 * its own code, code it writes and then makes executable, code in memory
 * writable and executable at once, code written through a second mapping,
 * and a thread's, before and after the process made such code. Every value
 * must come back the same in replay. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "util.h"

/* rdtsc; shl $32, %rdx; or %rdx, %rax; ret */
static const unsigned char kReadTsc[] = {0x0f, 0x31, 0x48, 0xc1, 0xe2, 0x20, 0x48, 0x09, 0xd0, 0xc3};
/* rdtscp; shl $32, %rdx; or %rdx, %rax; ret */
static const unsigned char kReadTscp[] = {0x0f, 0x01, 0xf9, 0x48, 0xc1, 0xe2, 0x20, 0x48, 0x09, 0xd0, 0xc3};

typedef unsigned long long (*reader)(void);

static void show(const char* what, unsigned long long value) { printf("%s %llx\n", what, value); }

static void read_clocks(const char* when) {
  struct timespec mono, real, cpu;
  CHECK(clock_gettime(CLOCK_MONOTONIC, &mono) == 0);
  CHECK(clock_gettime(CLOCK_REALTIME, &real) == 0);
  CHECK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) == 0);
  printf("%s: monotonic %ld.%09ld realtime %ld.%09ld cpu %ld.%09ld time %ld\n", when, (long)mono.tv_sec,
         mono.tv_nsec, (long)real.tv_sec, real.tv_nsec, (long)cpu.tv_sec, cpu.tv_nsec, (long)time(NULL));
  show("inline rdtsc", __rdtsc());
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int stage;

static void wait_stage(int wanted) {
  pthread_mutex_lock(&lock);
  while (stage < wanted) pthread_cond_wait(&changed, &lock);
  pthread_mutex_unlock(&lock);
}

static void set_stage(int value) {
  pthread_mutex_lock(&lock);
  stage = value;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
}

static reader writable_code;

static void* other_thread(void* unused) {
  (void)unused;
  show("thread rdtsc", __rdtsc());
  set_stage(1);
  wait_stage(2);
  /* The main thread made code writable and executable meanwhile. */
  show("thread rdtsc after", __rdtsc());
  show("thread rdtsc in writable code", writable_code());
  return NULL;
}

int main(void) {
  read_clocks("start");
  unsigned aux = 0;
  show("inline rdtscp", __rdtscp(&aux));

  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, other_thread, NULL) == 0);
  wait_stage(1);

  /* Written, then made executable. */
  unsigned char* code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(code != MAP_FAILED);
  memcpy(code, kReadTsc, sizeof kReadTsc);
  memcpy(code + 64, kReadTscp, sizeof kReadTscp);
  CHECK(mprotect(code, 4096, PROT_READ | PROT_EXEC) == 0);
  show("written then executable", ((reader)code)());
  show("written then executable, rdtscp", ((reader)(code + 64))());

  /* Rewritten the same way. */
  CHECK(mprotect(code, 4096, PROT_READ | PROT_WRITE) == 0);
  memcpy(code + 128, kReadTsc, sizeof kReadTsc);
  CHECK(mprotect(code, 4096, PROT_READ | PROT_EXEC) == 0);
  show("rewritten", ((reader)(code + 128))());

  /* Writable and executable at once: written after it is mapped. */
  unsigned char* wx = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(wx != MAP_FAILED);
  memcpy(wx, kReadTsc, sizeof kReadTsc);
  writable_code = (reader)wx;
  show("writable and executable", writable_code());
  set_stage(2);
  CHECK(pthread_join(thread, NULL) == 0);

  /* Two views of one memfd: written in one, run in the other. */
  int fd = memfd_create("code", 0);
  CHECK(fd >= 0 && ftruncate(fd, 4096) == 0);
  unsigned char* rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  unsigned char* rx = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
  CHECK(rw != MAP_FAILED && rx != MAP_FAILED);
  memcpy(rw, kReadTscp, sizeof kReadTscp);
  show("second view", ((reader)rx)());
  memcpy(rw + 256, kReadTsc, sizeof kReadTsc);
  show("second view again", ((reader)(rx + 256))());

  read_clocks("end");
  return 0;
}
