// Kernel corner (tests/e2e/kernel_test.cc): job control seen from the
// parent. A child that stops itself stays stopped until SIGCONT (it must
// not run meanwhile: its write would arrive early), and the parent sees
// each stop and continue through waitid and waitpid, without waiting too.
#include "kernel_common.h"
#include <poll.h>

static int readable_within(int fd, int ms) {
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, ms);
}

int main(void) {
  int pipefd[2], go[2];
  CHECK(pipe(pipefd) == 0 && pipe(go) == 0);
  pid_t child = fork();
  if (child == 0) {
    for (int i = 0; i < 2; i++) {
      raise(SIGSTOP);
      char mark = (char)('a' + i);
      if (write(pipefd[1], &mark, 1) != 1) _exit(2);
    }
    char ok;
    _exit(read(go[0], &ok, 1) == 1 ? 5 : 3);
  }
  siginfo_t si = {0};
  CHECK(waitid(P_PID, child, &si, WSTOPPED) == 0);
  printf("first stop: %s by %s\n", si.si_code == CLD_STOPPED ? "CLD_STOPPED" : "?", sigabbrev_np(si.si_status));
  printf("runs while stopped: %d\n", readable_within(pipefd[0], 100));

  CHECK(kill(child, SIGCONT) == 0);
  char mark = 0;
  CHECK(read(pipefd[0], &mark, 1) == 1);
  printf("after SIGCONT it wrote %c\n", mark);
  // By now it has stopped again, before its second write.
  printf("runs while stopped again: %d\n", readable_within(pipefd[0], 100));
  si = (siginfo_t){0};
  int r = waitid(P_PID, child, &si, WCONTINUED | WNOHANG);
  printf("waitid WCONTINUED|WNOHANG: %d, reported %d\n", r, si.si_pid != 0);
  si = (siginfo_t){0};
  r = waitid(P_PID, child, &si, WSTOPPED | WNOHANG);
  printf("waitid WSTOPPED|WNOHANG: %d, %s\n", r, si.si_code == CLD_STOPPED ? "CLD_STOPPED" : si.si_pid ? "?" : "nothing");
  int status = 0;
  printf("waitpid WNOHANG|WUNTRACED after that: %d\n", waitpid(child, &status, WNOHANG | WUNTRACED));

  CHECK(kill(child, SIGCONT) == 0);
  CHECK(waitpid(child, &status, WCONTINUED) == child);
  printf("continued: %d\n", WIFCONTINUED(status));
  CHECK(read(pipefd[0], &mark, 1) == 1);
  printf("then it wrote %c\n", mark);
  CHECK(write(go[1], "x", 1) == 1);
  CHECK(waitpid(child, &status, 0) == child);
  printf("exit status %d\n", WEXITSTATUS(status));
  return WEXITSTATUS(status) == 5 ? 0 : 1;
}
