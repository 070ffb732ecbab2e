/* A program whose seccomp filter refuses the clock syscalls, as a sandbox
 * may: it reads the clock through the vDSO alone, as it would natively. A
 * clock_gettime syscall of its own is refused. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int main(void) {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clock_gettime, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_gettimeofday, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
  };
  struct sock_fprog program = {sizeof filter / sizeof filter[0], filter};
  CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
  CHECK(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0);

  struct timespec a, b;
  struct timeval tv;
  int first = clock_gettime(CLOCK_MONOTONIC, &a);
  int second = clock_gettime(CLOCK_MONOTONIC, &b);
  int day = gettimeofday(&tv, NULL);
  printf("vDSO clock_gettime: %d %d, gettimeofday: %d\n", first, second, day);
  printf("monotonic %ld.%09ld then %ld.%09ld, day %ld.%06ld\n", (long)a.tv_sec, a.tv_nsec, (long)b.tv_sec, b.tv_nsec,
         (long)tv.tv_sec, (long)tv.tv_usec);
  long raw = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &a);
  printf("clock_gettime syscall: %ld errno %d\n", raw, raw ? errno : 0);
  return 0;
}
