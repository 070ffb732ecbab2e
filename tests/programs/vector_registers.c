/* The vector registers across a big buffered write: a syscall leaves them
 * alone, and so must ttdb's syscall buffer, which hashes what is written with
 * SSE2. The values are set and read around the call in assembly, so that no
 * compiler spill stands between them and the syscall. */
#include <fcntl.h>
#include <unistd.h>

#include "util.h"

static char block[8192];

int main(void) {
  int fd = open("/dev/null", O_WRONLY);
  CHECK(fd >= 0);
  for (unsigned i = 0; i < sizeof block; ++i) block[i] = (char)i;
  unsigned char before[16 * 16], after[16 * 16];
  for (unsigned i = 0; i < sizeof before; ++i) before[i] = (unsigned char)(i * 7 + 1);
  unsigned mxcsr_before = 0x7f80 | (1u << 13), mxcsr_after = 0; /* masked, round down */
  int bad = 0;
  for (int round = 0; round < 100; ++round) {
    long n;
    __asm__ volatile(
        "ldmxcsr %[mxcsr_in]\n\t"
        "movdqu 0(%[in]), %%xmm0\n\t movdqu 16(%[in]), %%xmm1\n\t movdqu 32(%[in]), %%xmm2\n\t"
        "movdqu 48(%[in]), %%xmm3\n\t movdqu 64(%[in]), %%xmm4\n\t movdqu 80(%[in]), %%xmm5\n\t"
        "movdqu 96(%[in]), %%xmm6\n\t movdqu 112(%[in]), %%xmm7\n\t movdqu 128(%[in]), %%xmm8\n\t"
        "movdqu 144(%[in]), %%xmm9\n\t movdqu 160(%[in]), %%xmm10\n\t movdqu 176(%[in]), %%xmm11\n\t"
        "movdqu 192(%[in]), %%xmm12\n\t movdqu 208(%[in]), %%xmm13\n\t movdqu 224(%[in]), %%xmm14\n\t"
        "movdqu 240(%[in]), %%xmm15\n\t"
        "push %[out]\n\t sub $8, %%rsp\n\t"
        "call write@PLT\n\t"
        "add $8, %%rsp\n\t pop %[out]\n\t"
        "movdqu %%xmm0, 0(%[out])\n\t movdqu %%xmm1, 16(%[out])\n\t movdqu %%xmm2, 32(%[out])\n\t"
        "movdqu %%xmm3, 48(%[out])\n\t movdqu %%xmm4, 64(%[out])\n\t movdqu %%xmm5, 80(%[out])\n\t"
        "movdqu %%xmm6, 96(%[out])\n\t movdqu %%xmm7, 112(%[out])\n\t movdqu %%xmm8, 128(%[out])\n\t"
        "movdqu %%xmm9, 144(%[out])\n\t movdqu %%xmm10, 160(%[out])\n\t movdqu %%xmm11, 176(%[out])\n\t"
        "movdqu %%xmm12, 192(%[out])\n\t movdqu %%xmm13, 208(%[out])\n\t movdqu %%xmm14, 224(%[out])\n\t"
        "movdqu %%xmm15, 240(%[out])\n\t"
        "stmxcsr %[mxcsr_out]"
        : "=a"(n), [mxcsr_out] "=m"(mxcsr_after)
        : [in] "r"(before), [out] "b"(after), [mxcsr_in] "m"(mxcsr_before), "D"((long)fd), "S"(block), "d"(sizeof block)
        : "rcx", "r8", "r9", "r10", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
          "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    CHECK(n == (long)sizeof block);
    bad += memcmp(before, after, sizeof before) != 0 || mxcsr_after != mxcsr_before;
    before[round] ^= 0x5a;
  }
  printf("%d of 100 writes changed a vector register\n", bad);
  return 0;
}
