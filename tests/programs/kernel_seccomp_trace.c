// Kernel corner (tests/e2e/kernel_test.cc): the program's own seccomp
// filter asks for a tracer (SECCOMP_RET_TRACE) for getppid. It has none, so
// natively the call fails with ENOSYS, in its children too; under ttdb (a
// tracer) it must fail the same way.
#include "kernel_common.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>

int main(void) {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 7),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  struct sock_fprog program = {sizeof filter / sizeof filter[0], filter};
  CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
  CHECK(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0);
  errno = 0;
  long r = syscall(SYS_getppid);
  RET("getppid", r);
  pid_t child = fork();
  if (child == 0) {
    errno = 0;
    long q = syscall(SYS_getppid);
    _exit(q == -1 && errno == ENOSYS ? 0 : 1);
  }
  printf("in the child too: %d\n", child_status(child) == 0);
  return 0;
}
