// Kernel corner (tests/e2e/kernel_test.cc): seccomp_filter.
#include "kernel_common.h"
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <linux/audit.h>
#include <sys/prctl.h>
#include <stddef.h>
static volatile int sigsys;
static void h(int s, siginfo_t *si, void *u){ (void)s; (void)u; sigsys = si->si_syscall; }
int main(){
  struct sigaction sa = {0}; sa.sa_sigaction = h; sa.sa_flags = SA_SIGINFO; sigaction(SIGSYS, &sa, 0);
  struct sock_filter f[] = {
    BPF_STMT(BPF_LD|BPF_W|BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, SYS_getpriority, 0, 1), BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ERRNO|EPERM),
    BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, SYS_getppid, 0, 1), BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ERRNO|ENOTSUP),
    BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, SYS_sched_getscheduler, 0, 1), BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_TRAP),
    BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ALLOW) };
  struct sock_fprog pr = {sizeof f / sizeof f[0], f};
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); int r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &pr); RET("seccomp", r);
  errno = 0; long x = syscall(SYS_getpriority, 0, 0); RET("getpriority", x);
  x = syscall(SYS_getppid); RET("getppid", x);
  x = syscall(SYS_sched_getscheduler, 0); printf("sched_getscheduler ret=%ld sigsys_nr=%d\n", x, sigsys);
  printf("PR_GET_SECCOMP=%d\n", prctl(PR_GET_SECCOMP));
  return sigsys == SYS_sched_getscheduler ? 0 : 1; }
