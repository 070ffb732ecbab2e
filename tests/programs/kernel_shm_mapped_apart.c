// Kernel corner (tests/e2e/kernel_test.cc): processes that map the same
// memory each on their own, after they forked, and talk through it: a
// parent and child that take turns by spinning on a POSIX shared memory
// word, children that attach a System V segment and count in it under a
// semaphore, and three processes that pass a token round in a file each
// maps shared. Each prints what it saw; without ttdb's ordering of their
// code a replay would spin for ever or see other values.
#include "kernel_common.h"
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>

static void posix_turns(void) {
  char name[64];
  snprintf(name, sizeof name, "/ttdb-apart-%d", getpid());
  int fd = shm_open(name, O_CREAT | O_RDWR | O_EXCL, 0600);
  CHECK(fd >= 0);
  CHECK(ftruncate(fd, 4096) == 0);
  close(fd);
  pid_t child = fork();
  CHECK(child >= 0);
  int me = child == 0;
  int mine = shm_open(name, O_RDWR, 0);
  CHECK(mine >= 0);
  int* w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mine, 0);
  CHECK(w != MAP_FAILED);
  close(mine);
  for (int round = 0; round < 8; ++round) {
    while (__atomic_load_n(&w[0], __ATOMIC_ACQUIRE) % 2 != me) {}
    w[1] = w[1] * 3 + me + round;
    if (round % 4 == 0) printf("posix: %s sees %d\n", me ? "child" : "parent", w[1]);
    __atomic_fetch_add(&w[0], 1, __ATOMIC_RELEASE);
  }
  if (me) _exit(0);
  CHECK(child_status(child) == 0);
  printf("posix: %d turns, %d\n", w[0], w[1]);
  shm_unlink(name);
}

static void sysv_counts(void) {
  int shm = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
  int sem = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
  CHECK(shm >= 0 && sem >= 0);
  CHECK(semctl(sem, 0, SETVAL, 1) == 0);
  pid_t children[2];
  for (int k = 0; k < 2; ++k) {
    children[k] = fork();
    CHECK(children[k] >= 0);
    if (children[k] > 0) continue;
    long* n = shmat(shm, NULL, 0);
    CHECK(n != (void*)-1);
    for (int i = 0; i < 4; ++i) {
      struct sembuf down = {0, -1, 0}, up = {0, 1, 0};
      CHECK(semop(sem, &down, 1) == 0);
      long seen = *n;
      *n = seen + 1;
      printf("sysv: child %d saw %ld\n", k, seen);
      CHECK(semop(sem, &up, 1) == 0);
      usleep(500);
    }
    _exit(0);
  }
  for (int k = 0; k < 2; ++k) CHECK(child_status(children[k]) == 0);
  long* n = shmat(shm, NULL, SHM_RDONLY);
  CHECK(n != (void*)-1);
  printf("sysv: %ld in all\n", *n);
  CHECK(*n == 8);
  shmctl(shm, IPC_RMID, NULL);
  semctl(sem, 0, IPC_RMID);
}

static void file_token(void) {
  char path[] = "/tmp/ttdb-apart-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  CHECK(ftruncate(fd, 4096) == 0);
  close(fd);
  int me = 0;
  pid_t children[2] = {0, 0};
  for (int k = 1; k < 3 && me == 0; ++k) {
    pid_t p = fork();
    CHECK(p >= 0);
    if (p == 0) me = k;
    else children[k - 1] = p;
  }
  int mine = open(path, O_RDWR);
  CHECK(mine >= 0);
  long* w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mine, 0);
  CHECK(w != MAP_FAILED);
  close(mine);
  for (int round = 0; round < 4; ++round) {
    while (__atomic_load_n(&w[0], __ATOMIC_ACQUIRE) % 3 != me) {}
    w[1 + me] = w[1 + (me + 2) % 3] * 2 + 1;
    __atomic_fetch_add(&w[0], 1, __ATOMIC_RELEASE);
  }
  if (me) _exit(0);
  for (int k = 0; k < 2; ++k) CHECK(child_status(children[k]) == 0);
  printf("file: %ld %ld %ld %ld\n", w[0], w[1], w[2], w[3]);
  CHECK(w[0] == 12);
  unlink(path);
}

int main(void) {
  posix_turns();
  sysv_counts();
  file_token();
  return 0;
}
