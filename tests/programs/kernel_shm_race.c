// Kernel corner (tests/e2e/kernel_test.cc): a parent and its child race on
// memory they share (POSIX shared memory, mapped before the fork), each
// appending its mark to a log with an atomic counter. The log's order is
// different on every run; replay must give the recorded one.
#include "kernel_common.h"

#define ROUNDS 400

struct shared {
  int next;
  char log[2 * ROUNDS];
};

static void take_turns(struct shared* s, char mark) {
  for (int i = 0; i < ROUNDS; ++i) {
    int at = __atomic_fetch_add(&s->next, 1, __ATOMIC_SEQ_CST);
    s->log[at] = mark;
    if (i % 16 == 0) getppid();
  }
}

int main(void) {
  char name[64];
  snprintf(name, sizeof name, "/ttdb-shm-race-%d", getpid());
  int fd = shm_open(name, O_CREAT | O_RDWR | O_EXCL, 0600);
  CHECK(fd >= 0);
  shm_unlink(name);
  CHECK(ftruncate(fd, sizeof(struct shared)) == 0);
  struct shared* s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK(s != MAP_FAILED);
  pid_t child = fork();
  if (child == 0) {
    take_turns(s, 'c');
    _exit(0);
  }
  take_turns(s, 'p');
  CHECK(child_status(child) == 0);
  unsigned hash = 0;
  int switches = 0;
  for (int i = 0; i < 2 * ROUNDS; ++i) {
    hash = hash * 31 + (unsigned char)s->log[i];
    if (i > 0 && s->log[i] != s->log[i - 1]) ++switches;
  }
  printf("%d marks, order hash %08x, %d switches between them\n", s->next, hash, switches);
  return s->next == 2 * ROUNDS ? 0 : 1;
}
