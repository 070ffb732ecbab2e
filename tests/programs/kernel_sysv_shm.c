// Kernel corner (tests/e2e/kernel_test.cc): sysv_shm, a System V segment a parent and its child hand a value through, spinning on a flag.
#include "kernel_common.h"
#include <sys/ipc.h>
#include <sys/shm.h>
int main(){
  int id = shmget(IPC_PRIVATE, 4096, 0600); CHECK(id>=0);
  volatile int *m = shmat(id, 0, 0); CHECK(m != (void*)-1); m[0]=0; m[1]=0;
  pid_t p = fork();
  if (p == 0) { for (int i=1;i<=5;i++){ while (m[0] != 2*i-1) {} m[1] += 10; m[0] = 2*i; } _exit(0); }
  for (int i=1;i<=5;i++){ m[1] += 1; m[0] = 2*i-1; while (m[0] != 2*i) {} }
  printf("shared value=%d\n", m[1]); child_status(p); shmdt((void*)m); shmctl(id, IPC_RMID, 0); return m?0:1; }
