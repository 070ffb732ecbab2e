// A program that attaches to its child with ptrace and follows its syscalls
// (PTRACE_SYSCALL), counting them and naming a few, as strace does, with
// PTRACE_GET_SYSCALL_INFO at each stop and the exit's event stop (TRACEEXIT).
#include "kernel_common.h"
#include <sys/ptrace.h>
#include <sys/user.h>
#include <linux/ptrace.h>

int main(void) {
  int ready[2], go[2];
  CHECK(pipe(ready) == 0 && pipe(go) == 0);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    char c;
    CHECK(write(ready[1], "r", 1) == 1);
    CHECK(read(go[0], &c, 1) == 1);
    pid_t me = getpid();
    char line[64];
    int n = snprintf(line, sizeof line, "child %s\n", me > 0 ? "runs" : "?");
    CHECK(write(1, line, (size_t)n) == n);
    getppid();
    _exit(3);
  }
  char c;
  CHECK(read(ready[0], &c, 1) == 1);
  CHECK(ptrace(PTRACE_ATTACH, child, 0, 0) == 0);
  int status;
  CHECK(waitpid(child, &status, 0) == child);
  printf("attached: stopped by %s\n", strsignal(WSTOPSIG(status)));
  CHECK(ptrace(PTRACE_SETOPTIONS, child, 0, (void*)(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXIT)) == 0);
  CHECK(write(go[1], "g", 1) == 1);
  int stops = 0, entries = 0, info_agrees = 0;
  char names[512] = "";
  int entering = 1;
  CHECK(ptrace(PTRACE_SYSCALL, child, 0, 0) == 0);
  for (;;) {
    CHECK(waitpid(child, &status, 0) == child);
    if (WIFEXITED(status)) break;
    CHECK(WIFSTOPPED(status));
    if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
      ++stops;
      struct ptrace_syscall_info info;
      long size = ptrace(PTRACE_GET_SYSCALL_INFO, child, (void*)sizeof info, &info);
      if (size > 0 && info.op == (entering ? PTRACE_SYSCALL_INFO_ENTRY : PTRACE_SYSCALL_INFO_EXIT)) ++info_agrees;
      if (entering) {
        struct user_regs_struct regs;
        CHECK(ptrace(PTRACE_GETREGS, child, 0, &regs) == 0);
        ++entries;
        const char* name = regs.orig_rax == SYS_read ? "read" : regs.orig_rax == SYS_write ? "write"
                         : regs.orig_rax == SYS_getpid ? "getpid" : regs.orig_rax == SYS_getppid ? "getppid"
                         : regs.orig_rax == SYS_exit_group ? "exit_group" : "other";
        snprintf(names + strlen(names), sizeof names - strlen(names), " %s(%llu)", name, regs.orig_rax);
      }
      entering = !entering;
    } else if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
      unsigned long message = 0;
      CHECK(ptrace(PTRACE_GETEVENTMSG, child, 0, &message) == 0);
      printf("exit event stop: it exits with %lu\n", message >> 8);
    } else {
      printf("signal stop %s\n", strsignal(WSTOPSIG(status)));
    }
    CHECK(ptrace(PTRACE_SYSCALL, child, 0, 0) == 0);
  }
  printf("syscall stops %d, entries %d:%s; GET_SYSCALL_INFO agrees at %d\n", stops, entries, names, info_agrees);
  printf("child exited with %d\n", WEXITSTATUS(status));
  return 0;
}
