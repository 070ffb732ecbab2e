// Kernel corner (tests/e2e/kernel_test.cc): prctl_misc.
#include "kernel_common.h"
#include <sys/prctl.h>
int main(){
  int tsc = -1; int r = prctl(PR_GET_TSC, &tsc); RET("PR_GET_TSC", r); printf("tsc=%d\n", tsc);
  r = prctl(PR_GET_SECCOMP); RET("PR_GET_SECCOMP", r);
  char name[17]={0}; prctl(PR_SET_NAME, "ttdbname"); prctl(PR_GET_NAME, name); printf("name=%s\n", name);
  r = prctl(PR_GET_DUMPABLE); printf("dumpable=%d\n", r);
  // Answers through the program's pointer (replay must write them too).
  int v = -7; prctl(PR_GET_CHILD_SUBREAPER, &v); printf("subreaper=%d\n", v);
  prctl(PR_SET_CHILD_SUBREAPER, 1); v = -7; prctl(PR_GET_CHILD_SUBREAPER, &v); printf("subreaper now=%d\n", v);
  prctl(PR_SET_PDEATHSIG, SIGUSR2); v = -7; prctl(PR_GET_PDEATHSIG, &v); printf("pdeathsig=%d\n", v);
  v = -7; prctl(PR_GET_UNALIGN, &v); printf("unaligned=%d\n", v);
  r = prctl(PR_SET_TSC, PR_TSC_SIGSEGV); RET("PR_SET_TSC sigsegv", r);
  r = prctl(PR_GET_TSC, &tsc); printf("tsc now=%d\n", tsc);
  return 0; }
