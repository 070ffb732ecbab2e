// A program that traces its child (ptrace, which ttdb emulates while
// recording): the child asks to be traced and stops; the parent reads and
// changes one of its variables and reads its registers, then lets it go on.
#include "kernel_common.h"
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/user.h>

static volatile long secret = 41;

int main(void) {
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
    raise(SIGSTOP);
    printf("child sees secret = %ld\n", secret);
    _exit(7);
  }
  int status;
  CHECK(waitpid(child, &status, 0) == child);
  printf("child stopped: %d, by %s\n", WIFSTOPPED(status), strsignal(WSTOPSIG(status)));
  errno = 0;
  long word = ptrace(PTRACE_PEEKDATA, child, (void*)&secret, 0);
  CHECK(errno == 0);
  printf("peeked %ld\n", word);
  CHECK(ptrace(PTRACE_POKEDATA, child, (void*)&secret, (void*)(word + 1)) == 0);
  struct user_regs_struct regs;
  CHECK(ptrace(PTRACE_GETREGS, child, 0, &regs) == 0);
  // Stopped right after the tgkill of raise(): the syscall's number is in orig_rax.
  printf("stopped after syscall %llu\n", regs.orig_rax);
  errno = 0;
  long rax = ptrace(PTRACE_PEEKUSER, child, (void*)offsetof(struct user_regs_struct, orig_rax), 0);
  printf("peekuser orig_rax %ld (errno %s)\n", rax, errno ? en() : "0");
  // Not its tracee: the kernel says ESRCH.
  long r = ptrace(PTRACE_PEEKDATA, getpid(), (void*)&secret, 0);
  printf("peek at itself: %ld %s\n", r, en());
  CHECK(ptrace(PTRACE_CONT, child, 0, 0) == 0);
  // Running now: requests other than kill fail with ESRCH until it stops again.
  CHECK(waitpid(child, &status, 0) == child);
  printf("child exited: %d, status %d\n", WIFEXITED(status), WEXITSTATUS(status));
  r = ptrace(PTRACE_CONT, child, 0, 0);
  printf("continue the dead child: %ld %s\n", r, en());
  return 0;
}
