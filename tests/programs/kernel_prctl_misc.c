// Kernel corner (tests/e2e/kernel_test.cc): prctl_misc.
#include "kernel_common.h"
#include <sys/prctl.h>
int main(){
  int tsc = -1; int r = prctl(PR_GET_TSC, &tsc); RET("PR_GET_TSC", r); printf("tsc=%d\n", tsc);
  r = prctl(PR_GET_SECCOMP); RET("PR_GET_SECCOMP", r);
  char name[17]={0}; prctl(PR_SET_NAME, "ttdbname"); prctl(PR_GET_NAME, name); printf("name=%s\n", name);
  r = prctl(PR_GET_DUMPABLE); printf("dumpable=%d\n", r);
  r = prctl(PR_SET_TSC, PR_TSC_SIGSEGV); RET("PR_SET_TSC sigsegv", r);
  r = prctl(PR_GET_TSC, &tsc); printf("tsc now=%d\n", tsc);
  return 0; }
