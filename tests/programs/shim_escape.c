/* A program that tries to make syscalls ttdb does not see: it finds ttdb's
 * syscall buffer in its memory and calls the buffer's untraced `syscall`
 * instruction with its own registers (getrandom, an open and a read of
 * /dev/urandom, a write). The recording must hold those calls, so that the
 * replay prints the same random bytes; natively (or without the buffer) it
 * makes the same calls from its own code. With `own-filter` it installs a
 * seccomp filter of its own first (one that allows everything), which makes
 * the recorder stop at every syscall and tell the buffer's own apart. */
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "find_shim.h"
#include "util.h"

static unsigned long gate; /* the shim's syscall instruction, or 0 */

/* A syscall made at `gate`, whose `ret` comes back here. r8 and r9 hold
 * what a careless program might leave in them. */
static long call(long nr, long a0, long a1, long a2) {
  long ret;
  register long r10 __asm__("r10") = 0;
  register long r8 __asm__("r8") = 0x1234;
  register long r9 __asm__("r9") = 0;
  if (!gate) {
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
  }
  /* Past the red zone: `call` pushes its return address. */
  __asm__ volatile("sub $128, %%rsp\n\tcall *%[gate]\n\tadd $128, %%rsp"
                   : "=a"(ret)
                   : [gate] "m"(gate), "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

static void hex(char* out, const unsigned char* bytes, int n) {
  for (int i = 0; i < n; ++i) {
    out[2 * i] = "0123456789abcdef"[bytes[i] >> 4];
    out[2 * i + 1] = "0123456789abcdef"[bytes[i] & 15];
  }
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "own-filter") == 0) {
    struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog program = {1, allow};
    CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
    CHECK(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0);
  }
  struct found_shim shim;
  if (find_shim(&shim)) gate = shim.syscall_insn;
  printf("through the syscall buffer: %s\n", gate ? "yes" : "no");
  fflush(stdout);

  unsigned char random[16], urandom[16];
  CHECK(call(SYS_getrandom, (long)random, sizeof random, 0) == sizeof random);
  long fd = call(SYS_openat, AT_FDCWD, (long)"/dev/urandom", O_RDONLY);
  CHECK(fd >= 0);
  CHECK(call(SYS_read, fd, (long)urandom, sizeof urandom) == sizeof urandom);
  CHECK(call(SYS_close, fd, 0, 0) == 0);

  char line[] = "getrandom ................................ urandom ................................\n";
  hex(line + 10, random, 16);
  hex(line + 51, urandom, 16);
  CHECK(call(SYS_write, 1, (long)line, sizeof line - 1) == (long)sizeof line - 1);
  return 0;
}
