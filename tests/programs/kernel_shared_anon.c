// Kernel corner (tests/e2e/kernel_test.cc): shared_anon, processes that share anonymous memory and hand values to each other through it, ordered by pipes and by spinning on flags.
#include "kernel_common.h"
int main(){
  volatile int *m = mmap(0, 4096, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0);
  int a[2], b[2]; pipe(a); pipe(b); char c;
  pid_t p = fork();
  if (p == 0) { for (int i=0;i<5;i++){ read(a[0], &c, 1); m[1] = m[0]*2; write(b[1], "c", 1);} 
    while (m[2] != 1) {}
    m[3] = 4242; _exit(0); }
  for (int i=0;i<5;i++){ m[0] = i+1; write(a[1], "p", 1); read(b[0], &c, 1); printf("parent sees child wrote %d\n", m[1]); }
  m[2] = 1; while (m[3] != 4242) ; printf("spin flag ok %d\n", m[3]); return child_status(p); }
