// A tracer that reads and changes its tracee's signal state: the siginfo
// of a signal stop (PTRACE_GETSIGINFO, SETSIGINFO: the handler sees the
// tracer's value), the signal mask (GETSIGMASK, SETSIGMASK), and the
// extended register state (GETREGSET NT_X86_XSTATE). The tracer's SIGCHLD
// for each stop says which tracee stopped, and with which signal, both
// taken with sigwaitinfo and in a handler.
#include "kernel_common.h"
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

static volatile int seen_value, seen_code;
static volatile int chld_code, chld_status, chld_pid;

static void on_child(int sig, siginfo_t* info, void* context) {
  (void)sig;
  (void)context;
  chld_code = info->si_code;
  chld_status = info->si_status;
  chld_pid = info->si_pid;
}

static void handler(int sig, siginfo_t* info, void* context) {
  (void)sig;
  (void)context;
  seen_value = info->si_value.sival_int;
  seen_code = info->si_code;
}

int main(void) {
  // Blocked before the child can stop: a SIGCHLD left at its default is dropped.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  CHECK(sigprocmask(SIG_BLOCK, &chld, 0) == 0);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    struct sigaction action = {0};
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGUSR1, &action, 0) == 0);
    CHECK(sigprocmask(SIG_UNBLOCK, &chld, 0) == 0);
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
    raise(SIGURG);
    _exit(0);
  }
  siginfo_t told;
  CHECK(sigwaitinfo(&chld, &told) == SIGCHLD);
  printf("SIGCHLD: trapped %d, by %s, from the tracee %d\n", told.si_code == CLD_TRAPPED, strsignal(told.si_status),
         told.si_pid == child);
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

  struct sigaction action = {0};
  action.sa_sigaction = on_child;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  CHECK(sigaction(SIGCHLD, &action, 0) == 0);
  CHECK(ptrace(PTRACE_CONT, child, 0, SIGUSR1) == 0);
  CHECK(sigprocmask(SIG_UNBLOCK, &chld, 0) == 0);
  CHECK(waitpid(child, &status, 0) == child);
  while (!chld_code) usleep(1000);
  printf("stopped by %s; its SIGCHLD in a handler: trapped %d, by %s, from the tracee %d\n", strsignal(WSTOPSIG(status)),
         chld_code == CLD_TRAPPED, strsignal(chld_status), chld_pid == child);
  CHECK(ptrace(PTRACE_CONT, child, 0, 0) == 0);
  printf("child ended with %d\n", child_status(child));
  return 0;
}
