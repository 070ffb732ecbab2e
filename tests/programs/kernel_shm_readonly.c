// Kernel corner (tests/e2e/kernel_test.cc): a System V segment attached
// read-only (SHM_RDONLY) beside a writable attachment of the same segment:
// what the writable one writes shows through the read-only one, and a
// write through the read-only one faults, as it does natively.
#include "kernel_common.h"
#include <setjmp.h>
#include <sys/ipc.h>
#include <sys/shm.h>

static sigjmp_buf back;

static void on_segv(int sig) {
  (void)sig;
  siglongjmp(back, 1);
}

int main(void) {
  int id = shmget(IPC_PRIVATE, 8192, 0600);
  CHECK(id >= 0);
  volatile int* writable = shmat(id, 0, 0);
  CHECK(writable != (void*)-1);
  writable[0] = 41;
  volatile int* readonly = shmat(id, 0, SHM_RDONLY);
  CHECK(readonly != (void*)-1);
  writable[1] = 42;
  printf("read-only view: %d %d\n", readonly[0], readonly[1]);
  signal(SIGSEGV, on_segv);
  if (sigsetjmp(back, 1) == 0) {
    readonly[2] = 7;
    printf("the write through the read-only attachment went through\n");
  } else {
    printf("the write through the read-only attachment faulted\n");
  }
  printf("after: %d\n", writable[2]);
  CHECK(shmdt((void*)readonly) == 0);
  CHECK(shmdt((void*)writable) == 0);
  CHECK(shmctl(id, IPC_RMID, 0) == 0);
  return 0;
}
