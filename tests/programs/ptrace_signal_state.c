// A tracer that reads and changes its tracee's signal state: the siginfo
// of a signal stop (PTRACE_GETSIGINFO, SETSIGINFO: the handler sees the
// tracer's value), the signal mask (GETSIGMASK, SETSIGMASK), and the
// extended register state (GETREGSET NT_X86_XSTATE).
#include "kernel_common.h"
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

static volatile int seen_value, seen_code;

static void handler(int sig, siginfo_t* info, void* context) {
  (void)sig;
  (void)context;
  seen_value = info->si_value.sival_int;
  seen_code = info->si_code;
}

int main(void) {
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    struct sigaction action = {0};
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGUSR1, &action, 0) == 0);
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR2);
    CHECK(sigprocmask(SIG_BLOCK, &blocked, 0) == 0);
    CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
    union sigval value = {.sival_int = 42};
    CHECK(sigqueue(getpid(), SIGUSR1, value) == 0);
    printf("child: the handler saw %d (code %s)\n", seen_value, seen_code == SI_QUEUE ? "SI_QUEUE" : "other");
    CHECK(sigprocmask(SIG_BLOCK, 0, &blocked) == 0);
    printf("child: SIGHUP blocked by its tracer: %d\n", sigismember(&blocked, SIGHUP));
    _exit(0);
  }
  int status;
  CHECK(waitpid(child, &status, 0) == child);
  printf("stopped by %s\n", strsignal(WSTOPSIG(status)));
  siginfo_t info;
  memset(&info, 0, sizeof info);
  CHECK(ptrace(PTRACE_GETSIGINFO, child, 0, &info) == 0);
  printf("its siginfo: value %d, from itself %d\n", info.si_value.sival_int, info.si_pid == child);
  info.si_value.sival_int = 99;
  CHECK(ptrace(PTRACE_SETSIGINFO, child, 0, &info) == 0);

  unsigned long long mask = 0;
  CHECK(ptrace(PTRACE_GETSIGMASK, child, (void*)sizeof mask, &mask) == 0);
  printf("its mask: SIGUSR2 %d, SIGHUP %d\n", !!(mask & (1ull << (SIGUSR2 - 1))), !!(mask & (1ull << (SIGHUP - 1))));
  mask |= 1ull << (SIGHUP - 1);
  CHECK(ptrace(PTRACE_SETSIGMASK, child, (void*)sizeof mask, &mask) == 0);
  errno = 0;
  long wrong = ptrace(PTRACE_GETSIGMASK, child, (void*)4, &mask);
  printf("a mask of the wrong size: %ld %s\n", wrong, en());

  static unsigned char xstate[4096];
  struct iovec whole = {xstate, sizeof xstate};
  CHECK(ptrace(PTRACE_GETREGSET, child, (void*)NT_X86_XSTATE, &whole) == 0);
  printf("extended state: at least the legacy area %d\n", whole.iov_len >= 576);

  CHECK(ptrace(PTRACE_CONT, child, 0, SIGUSR1) == 0);
  printf("child ended with %d\n", child_status(child));
  return 0;
}
