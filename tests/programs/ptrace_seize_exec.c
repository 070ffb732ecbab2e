// A program that seizes its child with ptrace (no SIGSTOP), interrupts it
// while it waits in a read, reads its registers through GETREGSET and
// GETFPREGS, polls with waitid, and follows it through an exec
// (PTRACE_O_TRACEEXEC) to its end.
#include "kernel_common.h"
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

int main(int argc, char** argv) {
  if (argc > 1) {
    printf("the exec'd child says %s\n", argv[1]);
    return 5;
  }
  int go[2];
  CHECK(pipe(go) == 0);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    char c;
    CHECK(read(go[0], &c, 1) == 1);
    execl("/proc/self/exe", argv[0], "hello", (char*)0);
    _exit(99);
  }
  CHECK(ptrace(PTRACE_SEIZE, child, 0, (void*)(PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD)) == 0);
  long r = ptrace(PTRACE_GETREGS, child, 0, 0);
  printf("registers of a running tracee: %ld %s\n", r, en());
  CHECK(ptrace(PTRACE_INTERRUPT, child, 0, 0) == 0);
  int status;
  CHECK(waitpid(child, &status, 0) == child);
  printf("interrupted: stopped %d, signal %s, event %d\n", WIFSTOPPED(status), strsignal(WSTOPSIG(status) & 0x7f),
         status >> 16);
  struct user_regs_struct regs;
  struct iovec iov = {&regs, sizeof regs};
  CHECK(ptrace(PTRACE_GETREGSET, child, (void*)NT_PRSTATUS, &iov) == 0);
  printf("regset of %zu bytes, in syscall %llu\n", iov.iov_len, regs.orig_rax);
  struct user_fpregs_struct fp;
  CHECK(ptrace(PTRACE_GETFPREGS, child, 0, &fp) == 0);
  printf("mxcsr %#x\n", fp.mxcsr);
  unsigned long message = 1;
  CHECK(ptrace(PTRACE_GETEVENTMSG, child, 0, &message) == 0);
  printf("event message %lu\n", message);
  CHECK(ptrace(PTRACE_CONT, child, 0, 0) == 0);
  siginfo_t info;
  memset(&info, 0, sizeof info);
  CHECK(waitid(P_PID, (id_t)child, &info, WEXITED | WSTOPPED | WNOHANG) == 0);
  printf("waitid while it runs: pid %d\n", info.si_pid);
  CHECK(write(go[1], "g", 1) == 1);
  CHECK(waitpid(child, &status, 0) == child);
  CHECK(ptrace(PTRACE_GETEVENTMSG, child, 0, &message) == 0);
  printf("exec stop: event %d, former tid is the child: %d\n", status >> 16, message == (unsigned long)child);
  CHECK(ptrace(PTRACE_GETSIGINFO, child, 0, &info) == 0 || errno == EINVAL);
  CHECK(ptrace(PTRACE_DETACH, child, 0, 0) == 0);
  memset(&info, 0, sizeof info);
  CHECK(waitid(P_PID, (id_t)child, &info, WEXITED) == 0);
  printf("child exited with %d (code %d)\n", info.si_status, info.si_code == CLD_EXITED);
  return 0;
}
