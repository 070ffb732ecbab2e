// rdtsc in a loop, as benchmarks and cycle counters read it: ttdb moves the
// instructions after each rdtsc into a trampoline that reads the counter in
// the syscall buffer. The engine tests break and step there; with a second
// argument "threads", a second thread reads it too while an interval
// timer's handler reads it between; with "load", an rdtsc is followed by a
// load relative to rip; with "fault", by a read of a null pointer.
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <x86intrin.h>

static volatile unsigned long signals, in_handler;

static void on_alarm(int sig) {
  (void)sig;
  ++signals;
  in_handler += __rdtsc() & 0xff;
}

__attribute__((noinline)) static unsigned long deltas(long rounds) {
  unsigned long sum = 0, last = __rdtsc();
  for (long i = 0; i < rounds; ++i) {
    unsigned long now = __rdtsc();
    sum += (now - last) & 0xffff;
    last = now;
  }
  return sum;
}

static void* worker(void* rounds) { return (void*)deltas((long)rounds); }

// An rdtsc whose next instruction reads memory relative to rip: moved into
// the trampoline, it must still read `answer`.
__attribute__((used)) static unsigned long answer = 42;
__attribute__((noinline)) static unsigned long rdtsc_then_load(void) {
  unsigned long loaded;
  __asm__ volatile("rdtsc\n\tmovq answer(%%rip), %0" : "=r"(loaded) : : "rax", "rdx");
  return loaded;
}

// An rdtsc whose next instruction faults (a null pointer read): that one
// keeps its int3, and the program's handler gets its fault.
static sigjmp_buf after_fault;
static void on_segv(int sig) {
  (void)sig;
  siglongjmp(after_fault, 1);
}
__attribute__((noinline)) static unsigned long rdtsc_then_read(const unsigned long* at) {
  unsigned long read;
  __asm__ volatile("rdtsc\n\tmovq (%1), %0" : "=r"(read) : "r"(at) : "rax", "rdx", "memory");
  return read;
}

int main(int argc, char** argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 2000;
  if (argc < 3) {
    printf("%lu\n", deltas(rounds));
    return 0;
  }
  if (argv[2][0] == 'f') {  // "fault"
    signal(SIGSEGV, on_segv);
    volatile unsigned long* nowhere = NULL;
    if (!sigsetjmp(after_fault, 1)) printf("read %lu\n", rdtsc_then_read((const unsigned long*)nowhere));
    printf("faulted after rdtsc\n");
    return 0;
  }
  if (argv[2][0] == 'l') {  // "load"
    unsigned long sum = 0;
    for (long i = 0; i < rounds; ++i) sum += rdtsc_then_load();
    printf("loaded %lu\n", sum);
    return 0;
  }
  signal(SIGALRM, on_alarm);
  struct itimerval every = {{0, 500}, {0, 500}};
  setitimer(ITIMER_REAL, &every, NULL);
  pthread_t other;
  pthread_create(&other, NULL, worker, (void*)rounds);
  unsigned long mine = deltas(rounds);
  void* theirs;
  pthread_join(other, &theirs);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  printf("%lu %lu, %lu signals (%lu)\n", mine, (unsigned long)theirs, signals, in_handler);
  return 0;
}
