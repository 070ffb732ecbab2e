// Kernel corner (tests/e2e/kernel_test.cc): a thread's fault ends its process while the main thread waits in pause().
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
static void* crash(void* a) { (void)a; usleep(1000); *(volatile int*)0 = 1; return 0; }
int main(void) {
  pid_t p = fork();
  if (p == 0) { pthread_t t; pthread_create(&t, 0, crash, 0); for (;;) pause(); }
  int st; waitpid(p, &st, 0);
  printf("child signaled %d sig %d\n", WIFSIGNALED(st), WTERMSIG(st));
  return 0;
}
