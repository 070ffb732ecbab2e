// Kernel corner (tests/e2e/kernel_test.cc): thread_execve.
#include "kernel_common.h"
static volatile int stop;
static void *spin(void *a){ (void)a; while(!stop) { getppid(); } return 0; }
static void *ex(void *a){ char **argv=a; usleep(10000); execl("/proc/self/exe", argv[0], "done", (char*)0); return 0; }
int main(int argc, char **argv){
  if (argc > 1) { printf("after exec in thread: %s\n", argv[1]); return 0; }
  printf("start\n"); fflush(stdout);
  pthread_t a,b; pthread_create(&a,0,spin,0); pthread_create(&b,0,ex,argv); pthread_join(a,0); return 1; }
