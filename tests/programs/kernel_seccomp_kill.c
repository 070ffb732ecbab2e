// Kernel corner (tests/e2e/kernel_test.cc): a child whose own seccomp filter kills it at a syscall, with no signal delivered through it.
#define _GNU_SOURCE

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  pid_t p = fork();
  if (p == 0) {
    struct sock_filter f[] = {
      BPF_STMT(BPF_LD|BPF_W|BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, SYS_getppid, 0, 1), BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog pr = {4, f};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &pr);
    write(1, "filtered\n", 9);
    syscall(SYS_getppid);
    write(1, "not reached\n", 12);
    _exit(0);
  }
  int st; waitpid(p, &st, 0);
  printf("child signaled %d sig %d\n", WIFSIGNALED(st), WTERMSIG(st));
  return 0;
}
