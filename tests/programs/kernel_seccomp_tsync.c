// Kernel corner (tests/e2e/kernel_test.cc): a seccomp filter installed with
// SECCOMP_FILTER_FLAG_TSYNC by a program that has threads already: one
// waits on a condition, one spins through syscalls. The filter makes
// getpriority fail with errno 42 in every thread, and sends SIGSYS for
// getpgid, whose handler answers.
#include "kernel_common.h"
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int go;
static volatile int stop;
static volatile sig_atomic_t trapped;

static void on_sigsys(int sig, siginfo_t* info, void* context) {
  (void)sig;
  (void)context;
  if (info->si_syscall == SYS_getpgid) trapped++;
}

static void* waiter(void* arg) {
  (void)arg;
  pthread_mutex_lock(&lock);
  while (!go) pthread_cond_wait(&cond, &lock);
  pthread_mutex_unlock(&lock);
  errno = 0;
  long r = syscall(SYS_getpriority, 0, 0);
  printf("waiter: getpriority %ld errno %d\n", r, errno);
  syscall(SYS_getpgid, 0);
  return 0;
}

static void* spinner(void* arg) {
  (void)arg;
  long calls = 0;
  while (!stop) calls += getppid() > 0;
  printf("spinner: ran, getpriority now fails with errno %d\n", syscall(SYS_getpriority, 0, 0) < 0 ? errno : 0);
  return 0;
}

int main(void) {
  struct sigaction sa = {0};
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO;
  CHECK(sigaction(SIGSYS, &sa, 0) == 0);
  pthread_t w, s;
  CHECK(pthread_create(&w, 0, waiter, 0) == 0);
  CHECK(pthread_create(&s, 0, spinner, 0) == 0);
  usleep(20000);
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpriority, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 42),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpgid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = {sizeof filter / sizeof filter[0], filter};
  CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &program);
  printf("seccomp with TSYNC: %ld\n", r);
  pthread_mutex_lock(&lock);
  go = 1;
  pthread_cond_signal(&cond);
  pthread_mutex_unlock(&lock);
  CHECK(pthread_join(w, 0) == 0);
  stop = 1;
  CHECK(pthread_join(s, 0) == 0);
  errno = 0;
  r = syscall(SYS_getpriority, 0, 0);
  printf("main: getpriority %ld errno %d, SIGSYS for getpgid %d time(s)\n", r, errno, (int)trapped);
  return 0;
}
