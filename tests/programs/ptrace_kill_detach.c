// Ends of tracing: a tracee killed with PTRACE_KILL, and a tracer that
// exits while its tracee is stopped (the kernel detaches it; it runs on).
#include "kernel_common.h"
#include <sys/ptrace.h>

int main(void) {
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
    raise(SIGSTOP);
    printf("not reached\n");
    _exit(0);
  }
  int status;
  CHECK(waitpid(child, &status, 0) == child);
  CHECK(WIFSTOPPED(status));
  CHECK(ptrace(PTRACE_KILL, child, 0, 0) == 0);
  CHECK(waitpid(child, &status, 0) == child);
  printf("tracee killed: %d, by %s\n", WIFSIGNALED(status), strsignal(WTERMSIG(status)));

  int out[2];
  CHECK(pipe(out) == 0);
  pid_t tracer = fork();
  CHECK(tracer >= 0);
  if (tracer == 0) {
    close(out[0]);
    pid_t tracee = fork();
    CHECK(tracee >= 0);
    if (tracee == 0) {
      signal(SIGUSR2, SIG_IGN);
      CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
      raise(SIGUSR2);
      const char line[] = "tracee runs on after its tracer's end\n";
      CHECK(write(out[1], line, sizeof line - 1) == sizeof line - 1);
      _exit(0);
    }
    close(out[1]);
    CHECK(waitpid(tracee, &status, 0) == tracee);
    printf("tracer: tracee stopped by %s; tracer exits\n", strsignal(WSTOPSIG(status)));
    _exit(0);
  }
  close(out[1]);
  CHECK(waitpid(tracer, &status, 0) == tracer);
  printf("tracer exited with %d\n", WEXITSTATUS(status));
  char buffer[128];
  ssize_t n, total = 0;
  while ((n = read(out[0], buffer + total, sizeof buffer - 1 - (size_t)total)) > 0) total += n;
  buffer[total] = 0;
  printf("from the tracee: %s", buffer);
  return 0;
}
