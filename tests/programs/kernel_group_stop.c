// Kernel corner (tests/e2e/kernel_test.cc): group_stop.
#include "kernel_common.h"
int main(){
  int pp[2]; pipe(pp);
  pid_t p = fork();
  if (p == 0) { char c; read(pp[0], &c, 1); printf("child continued\n"); fflush(stdout); _exit(0); }
  kill(p, SIGSTOP); int st; waitpid(p, &st, WUNTRACED); printf("stopped=%d sig=%s\n", WIFSTOPPED(st), sigabbrev_np(WSTOPSIG(st)));
  kill(p, SIGCONT); waitpid(p, &st, WCONTINUED); printf("continued=%d\n", WIFCONTINUED(st));
  write(pp[1], "g", 1); return child_status(p); }
