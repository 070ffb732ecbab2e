/* Calls that change the process, which the syscall buffer makes while
 * recording and replay makes again: anonymous memory mapped, protected,
 * mapped over in part and unmapped, the heap grown, a signal blocked and
 * unblocked, the word the thread's end clears set (through syscall(), whose
 * site the buffer patches: glibc's own call is the loader's, whose site it
 * cannot); every 50th round, the signal sent while blocked (delivered as
 * the unblocking call returns). round_done() marks each round's end for
 * the debugger; `sum` folds in what the memory held. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t handled;
static uint64_t sum;

static void on_usr1(int sig) {
  (void)sig;
  handled++;
}

void round_done(int round) {
  sum = sum * 33 + (uint64_t)round;
}

int main(void) {
  signal(SIGUSR1, on_usr1);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  const long page = 4096;
  static int cleared_at_end;
  int other_tid = 0;
  for (int round = 0; round < 200; ++round) {
    unsigned char* p = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    for (long j = 0; j < 3 * page; j += 512) p[j] = (unsigned char)(round + j / 512);
    if (mprotect(p + page, page, PROT_READ) != 0) return 2;
    /* Its last page anew: zeros. */
    if (mmap(p + 2 * page, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
      return 3;
    for (long j = 0; j < 3 * page; j += 512) sum = sum * 31 + p[j];
    if (munmap(p, 3 * page) != 0) return 4;
    char* top = sbrk(64);
    if (top == (void*)-1) return 5;
    top[0] = (char)round;
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    if (round % 50 == 0) kill(getpid(), SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    /* Its result is the thread's id: the process's, as recorded. */
    other_tid += syscall(SYS_set_tid_address, &cleared_at_end) != getpid();
    round_done(round);
  }
  printf("sum %llx, handled %d, other tids %d\n", (unsigned long long)sum, (int)handled, other_tid);
  return 0;
}
