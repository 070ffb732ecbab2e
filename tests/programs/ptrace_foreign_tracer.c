// A tracer that is not its tracee's parent (gdb -p, strace -p): a sibling
// attaches, waits for the stop and for the end, which only a tracer's wait
// can see for a process not its own; WNOHANG finds nothing in between, and
// TracerPid names the tracer.
#include "kernel_common.h"
#include <sys/ptrace.h>

static int tracer_pid_of(pid_t pid) {
  char path[64], text[4096];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  int fd = open(path, O_RDONLY);
  CHECK(fd >= 0);
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  CHECK(n > 0);
  text[n] = 0;
  char* line = strstr(text, "TracerPid:");
  CHECK(line);
  return atoi(line + strlen("TracerPid:"));
}

int main(void) {
  int go[2];
  CHECK(pipe(go) == 0);
  pid_t target = fork();
  CHECK(target >= 0);
  if (target == 0) {
    char byte;
    while (read(go[0], &byte, 1) < 0 && errno == EINTR) {}
    _exit(8);
  }
  pid_t tracer = fork();
  CHECK(tracer >= 0);
  if (tracer == 0) {
    int status;
    printf("traced before: %d\n", tracer_pid_of(target) != 0);
    CHECK(ptrace(PTRACE_ATTACH, target, 0, 0) == 0);
    CHECK(waitpid(target, &status, 0) == target);
    printf("tracer: stopped by %s\n", strsignal(WSTOPSIG(status)));
    printf("TracerPid is the tracer: %d\n", tracer_pid_of(target) == getpid());
    printf("nothing more yet: %d\n", waitpid(target, &status, WNOHANG));
    CHECK(ptrace(PTRACE_CONT, target, 0, 0) == 0);
    CHECK(write(go[1], "x", 1) == 1);
    CHECK(waitpid(target, &status, 0) == target);
    printf("tracer: the tracee exited %d\n", WEXITSTATUS(status));
    _exit(0);
  }
  printf("tracer ended with %d\n", child_status(tracer));
  printf("target ended with %d\n", child_status(target));
  return 0;
}
