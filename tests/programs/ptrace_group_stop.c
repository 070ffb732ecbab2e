// Job control under a tracer: a stopping signal the tracer passes on makes
// a group-stop, reported to it; PTRACE_LISTEN keeps the tracee stopped until
// SIGCONT, which traps it once more (PTRACE_EVENT_STOP with SIGTRAP) before
// the SIGCONT itself is a signal to deliver. Then a tracer that dies with
// its tracee stopped at a signal: the kernel drops that signal.
#include "kernel_common.h"
#include <sys/ptrace.h>

static void seized_job_control(int seize) {
  int go[2];
  CHECK(pipe(go) == 0);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    char byte;
    CHECK(read(go[0], &byte, 1) == 1);
    _exit(7);
  }
  int status;
  if (seize) {
    CHECK(ptrace(PTRACE_SEIZE, child, 0, 0) == 0);
    CHECK(kill(child, SIGSTOP) == 0);
  } else {
    CHECK(ptrace(PTRACE_ATTACH, child, 0, 0) == 0);
  }
  CHECK(waitpid(child, &status, 0) == child);
  describe_wait("signal stop", status);
  siginfo_t info;
  CHECK(ptrace(PTRACE_GETSIGINFO, child, 0, &info) == 0);
  printf("its signal: %s\n", strsignal(info.si_signo));
  CHECK(ptrace(PTRACE_CONT, child, 0, SIGSTOP) == 0);
  CHECK(waitpid(child, &status, 0) == child);
  describe_wait("group stop", status);
  errno = 0;
  memset(&info, 0, sizeof info);
  long got = ptrace(PTRACE_GETSIGINFO, child, 0, &info);
  printf("GETSIGINFO in a group stop: %ld %s", got, got ? en() : "");
  if (got == 0) printf("signal %s, code %#x, its own pid %d", strsignal(info.si_signo), info.si_code, info.si_pid == child);
  printf("\n");
  if (seize) {
    CHECK(ptrace(PTRACE_LISTEN, child, 0, 0) == 0);
    CHECK(write(go[1], "x", 1) == 1);
    usleep(20000);
    printf("still stopped while listening: %d\n", waitpid(child, &status, WNOHANG) == 0);
    CHECK(kill(child, SIGCONT) == 0);
    CHECK(waitpid(child, &status, 0) == child);
    describe_wait("after SIGCONT", status);
    CHECK(ptrace(PTRACE_CONT, child, 0, 0) == 0);
    CHECK(waitpid(child, &status, 0) == child);
    describe_wait("then", status);
    CHECK(ptrace(PTRACE_CONT, child, 0, WSTOPSIG(status)) == 0);
  } else {
    errno = 0;
    long listened = ptrace(PTRACE_LISTEN, child, 0, 0);
    printf("LISTEN when attached: %ld %s\n", listened, en());
    CHECK(ptrace(PTRACE_CONT, child, 0, 0) == 0);
    CHECK(write(go[1], "x", 1) == 1);
  }
  CHECK(waitpid(child, &status, 0) == child);
  describe_wait("end", status);
  close(go[0]);
  close(go[1]);
}

static void tracer_dies_at_a_signal_stop(void) {
  int out[2];
  CHECK(pipe(out) == 0);
  pid_t tracer = fork();
  CHECK(tracer >= 0);
  if (tracer == 0) {
    pid_t tracee = fork();
    CHECK(tracee >= 0);
    if (tracee == 0) {
      CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
      raise(SIGUSR2);  // would kill it, were it delivered
      CHECK(write(out[1], "alive", 5) == 5);
      _exit(0);
    }
    int status;
    CHECK(waitpid(tracee, &status, 0) == tracee);
    _exit(0);
  }
  close(out[1]);
  CHECK(child_status(tracer) == 0);
  char buffer[16] = {0};
  CHECK(read(out[0], buffer, sizeof buffer - 1) >= 0);
  printf("the tracee after its tracer's end: %s\n", buffer[0] ? buffer : "(dead)");
  close(out[0]);
}

int main(void) {
  seized_job_control(1);
  seized_job_control(0);
  tracer_dies_at_a_signal_stop();
  return 0;
}
