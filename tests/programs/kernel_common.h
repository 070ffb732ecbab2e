// What the kernel_* corner programs share: checks that print what failed, and results printed with their errno names.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <stdint.h>
#include <pthread.h>
#define CHECK(c) do { if (!(c)) { printf("CHECK FAILED line %d: %s (errno=%s)\n", __LINE__, #c, strerrorname_np(errno)?strerrorname_np(errno):"?"); fflush(stdout); exit(1);} } while (0)
#define RET(name, r) printf("%s ret=%ld errno=%s\n", name, (long)(r), (r) < 0 ? (strerrorname_np(errno)?strerrorname_np(errno):"?") : "0")
__attribute__((constructor)) static void ttdb_corpus_linebuf(void){ setvbuf(stdout, 0, _IOLBF, 0); }
static inline const char *en(void) { const char *s = strerrorname_np(errno); return s ? s : "?"; }
static inline void sh_read_file(const char *p) { char b[256]; int fd = open(p, O_RDONLY); if (fd<0){printf("open %s: %s\n", p, en()); return;} int n = read(fd, b, sizeof b - 1); close(fd); if (n<0) n=0; b[n]=0; printf("%s: %s\n", p, b); }
static inline int child_status(pid_t p) { int st; CHECK(waitpid(p, &st, 0) == p); return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st); }
static inline void describe_wait(const char *what, int status) {
  if (WIFSTOPPED(status)) printf("%s: stopped by %s, event %d\n", what, strsignal(WSTOPSIG(status)), status >> 16);
  else if (WIFEXITED(status)) printf("%s: exited %d\n", what, WEXITSTATUS(status));
  else printf("%s: killed by %s\n", what, strsignal(WTERMSIG(status)));
}
