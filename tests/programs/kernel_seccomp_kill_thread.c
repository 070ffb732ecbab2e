// Kernel corner (tests/e2e/kernel_test.cc): a thread installs a seccomp
// filter that kills it alone (SECCOMP_RET_KILL_THREAD) at getppid, and
// answers getpgid with an errno; the process goes on without it.
#include "kernel_common.h"
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>

static void* doomed(void* arg) {
  (void)arg;
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_THREAD),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpgid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 42),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = {sizeof filter / sizeof filter[0], filter};
  CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
  CHECK(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0);
  long r = syscall(SYS_getpgid, 0);
  printf("the thread's getpgid: %ld, errno %d\n", r, errno);
  syscall(SYS_getppid);
  printf("not reached\n");
  return 0;
}

int main(void) {
  pthread_t thread;
  CHECK(pthread_create(&thread, 0, doomed, 0) == 0);
  CHECK(pthread_join(thread, 0) == 0);
  printf("the main thread goes on: getpgid works here: %d\n", getpgid(0) > 0);
  pid_t child = fork();
  if (child == 0) _exit(7);
  printf("and forks: %d\n", child_status(child));
  return 0;
}
