/* Process and thread ids differ from run to run. */
#define _GNU_SOURCE
#include <unistd.h>

#include "util.h"

int main(void) {
  printf("pid %d ppid %d tid %d pgrp %d sid %d\n", getpid(), getppid(), gettid(), getpgrp(), getsid(0));
  return 0;
}
