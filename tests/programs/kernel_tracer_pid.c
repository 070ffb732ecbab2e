// Kernel corner (tests/e2e/kernel_test.cc): a program that looks for a
// debugger the way many do, in the TracerPid line of /proc/self/status (and
// of a thread's own, and of a forked child's), and behaves otherwise if it
// finds one.
#include "kernel_common.h"

static int tracer_of(const char* path) {
  FILE* f = fopen(path, "r");
  CHECK(f != NULL);
  char line[256];
  int tracer = -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "TracerPid:", 10) == 0) tracer = atoi(line + 10);
  fclose(f);
  return tracer;
}

static void* in_thread(void* arg) {
  (void)arg;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)gettid());
  printf("a thread's tracer: %d\n", tracer_of(path));
  return 0;
}

int main(void) {
  int tracer = tracer_of("/proc/self/status");
  printf("tracer: %d\n", tracer);
  if (tracer != 0) printf("a debugger is watching: refusing to go on\n");
  pthread_t thread;
  CHECK(pthread_create(&thread, 0, in_thread, 0) == 0);
  pthread_join(thread, 0);
  pid_t child = fork();
  if (child == 0) _exit(tracer_of("/proc/self/status") == 0 ? 0 : 1);
  printf("a child sees no tracer: %d\n", child_status(child) == 0);
  return 0;
}
