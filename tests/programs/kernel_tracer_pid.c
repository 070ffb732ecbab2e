// Kernel corner (tests/e2e/kernel_test.cc): a program that looks for a
// debugger the way many do, in the TracerPid line of /proc/self/status (and
// of a thread's own, and of a forked child's), and behaves otherwise if it
// finds one. Its NoNewPrivs and Seccomp lines, and prctl's answers, are as
// without ttdb too, also once it sets no_new_privs itself; so is its
// speculative store bypass mitigation, which a seccomp filter turns on
// where the kernel can (it slows the whole program down).
#include "kernel_common.h"
#include <sys/prctl.h>

static void show_status_lines(const char* who) {
  FILE* f = fopen("/proc/self/status", "r");
  CHECK(f != NULL);
  char line[256];
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "NoNewPrivs:", 11) == 0 || strncmp(line, "Seccomp", 7) == 0 ||
        strncmp(line, "Speculation_Store_Bypass:", 25) == 0)
      printf("%s: %s", who, line);
  fclose(f);
  printf("%s: PR_GET_NO_NEW_PRIVS %d, PR_GET_SECCOMP %d, PR_GET_SPECULATION_CTRL(store bypass) %d\n", who,
         prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), prctl(PR_GET_SECCOMP, 0, 0, 0, 0),
         prctl(PR_GET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS, 0, 0, 0));
}

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
  show_status_lines("main");
  fflush(stdout);
  child = fork();
  if (child == 0) {
    CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
    show_status_lines("child with no_new_privs");
    _exit(0);
  }
  CHECK(child_status(child) == 0);
  return 0;
}
