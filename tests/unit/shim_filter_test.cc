// The recording's seccomp filter, run by the kernel: only a syscall from the
// syscall buffer's untraced instruction that carries the recording's secret
// goes through; everything else is traced (with no tracer, it fails with
// ENOSYS, which is how a child here tells them apart).
#include <asm/unistd_64.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "ttdb/tracer/syscall_buffer.h"

namespace ttdb {
namespace {

// Calls the `syscall; ret` at `insn` with these registers. Past the red
// zone: `call` pushes its return address.
long call_at(std::uint64_t insn, long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
  long ret;
  register long r10 __asm__("r10") = a3;
  register long r8 __asm__("r8") = a4;
  register long r9 __asm__("r9") = a5;
  __asm__ volatile("sub $128, %%rsp\n\tcall *%[insn]\n\tadd $128, %%rsp"
                   : "=a"(ret)
                   : [insn] "r"(insn), "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

// The same from this code's own `syscall` instruction.
long call_here(long nr, long a5) {
  long ret;
  register long r9 __asm__("r9") = a5;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "r"(r9) : "rcx", "r11", "memory");
  return ret;
}

TEST(ShimFilter, LetsThroughOnlyTheBuffersCallsWithTheSecret) {
  ShimSetup setup = choose_shim_setup();
  std::uint64_t insn = ShimPlace(setup.base).syscall_instruction();
  std::uint64_t page = insn & ~std::uint64_t{0xfff};
  auto secret = static_cast<long>(setup.secret);
  int file = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(file, 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Only what the filter allows from here on: no libc call makes a syscall.
    void* at = ::mmap(reinterpret_cast<void*>(page), 0x2000, PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (at != reinterpret_cast<void*>(page)) ::_exit(200);
    const unsigned char code[] = {0x0f, 0x05, 0xc3};  // syscall; ret
    std::memcpy(reinterpret_cast<void*>(insn), code, sizeof code);
    if (!install_shim_filter(setup)) ::_exit(201);
    int failed = 0;  // the first check that failed, from 1
    auto check = [&](int number, bool ok) {
      if (!ok && !failed) failed = number + 1;
    };
    // The secret in the sixth argument, from the instruction: allowed.
    check(0, call_at(insn, __NR_getppid, 0, 0, 0, 0, 0, secret) > 0);
    // The program's own registers, there: traced.
    check(1, call_at(insn, __NR_getppid, 0, 0, 0, 0, 0, 0) == -ENOSYS);
    // Half the secret is not the secret, either half.
    check(2, call_at(insn, __NR_getppid, 0, 0, 0, 0, 0, secret ^ (1L << 40)) == -ENOSYS);
    check(3, call_at(insn, __NR_getppid, 0, 0, 0, 0, 0, secret ^ 1) == -ENOSYS);
    // The secret from elsewhere: traced.
    check(4, call_here(__NR_getppid, secret) == -ENOSYS);
    // preadv2 carries it in the fifth (its flags are the sixth): it runs.
    check(5, call_at(insn, __NR_preadv2, -1, 0, 0, -1, secret, 0) == -EBADF);
    check(6, call_at(insn, __NR_preadv2, -1, 0, 0, -1, 0, secret) == -ENOSYS);
    check(7, call_at(insn, __NR_pwritev2, -1, 0, 0, -1, secret, 8) == -EBADF);
    // So does mmap of no file (whose descriptor the kernel ignores).
    long fresh = call_at(insn, __NR_mmap, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, secret, 0);
    check(8, fresh > 0 && (fresh & 0xfff) == 0);
    check(9, call_at(insn, __NR_mmap, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, secret) == -ENOSYS);
    // mmap of a file: the descriptor in the low half (the kernel takes an
    // int), the secret's high half over it; the low half is not checked.
    long high = secret & ~0xffffffffL;
    check(10, call_at(insn, __NR_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, high | file, 0) > 0);
    check(11, call_at(insn, __NR_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, (high ^ (1L << 40)) | file, 0) == -ENOSYS);
    check(12, call_at(insn, __NR_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, file, 0) == -ENOSYS);
    call_at(insn, __NR_exit_group, failed, 0, 0, 0, 0, secret);
    ::_exit(202);  // traced: fails, and so does this
  }
  ::close(file);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  // (A child whose exit_group the filter refused dies of SIGSEGV, at the hlt
  // that _exit falls to.) It exits with the number of the first check that
  // failed, from 1.
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "check " << WEXITSTATUS(status) - 1 << " failed";
}

TEST(ShimFilter, TheRecorderTellsTheCallsApartAsTheFilterDoes) {
  ShimSetup setup = choose_shim_setup();
  std::uint64_t ip = ShimPlace(setup.base).syscall_instruction() + 2;
  std::uint64_t with[6] = {0, 0, 0, 0, 0, setup.secret};
  std::uint64_t without[6] = {0, 0, 0, 0, 0, 0};
  std::uint64_t rwv2[6] = {3, 0, 1, ~0ull, setup.secret, 8};
  EXPECT_TRUE(is_untraced_shim_call(setup, ip, __NR_getppid, with));
  EXPECT_FALSE(is_untraced_shim_call(setup, ip, __NR_getppid, without));
  EXPECT_FALSE(is_untraced_shim_call(setup, ip + 2, __NR_getppid, with));
  EXPECT_TRUE(is_untraced_shim_call(setup, ip, __NR_preadv2, rwv2));
  EXPECT_FALSE(is_untraced_shim_call(setup, ip, __NR_preadv2, with));
  std::uint64_t anonymous[6] = {0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, setup.secret, 0};
  EXPECT_TRUE(is_untraced_shim_call(setup, ip, __NR_mmap, anonymous));
  EXPECT_FALSE(is_untraced_shim_call(setup, ip, __NR_mmap, with));
  std::uint64_t file[6] = {0, 4096, PROT_READ, MAP_PRIVATE, (setup.secret & ~0xffffffffull) | 3, 0};
  EXPECT_TRUE(is_untraced_shim_call(setup, ip, __NR_mmap, file));
  file[4] ^= 1ull << 40;
  EXPECT_FALSE(is_untraced_shim_call(setup, ip, __NR_mmap, file));
}

TEST(ShimSetup, EachRecordingChoosesItsPlaceAndSecret) {
  auto [first, last] = shim_base_range();
  std::set<std::uint64_t> bases, secrets;
  for (int i = 0; i < 100; ++i) {
    ShimSetup setup = choose_shim_setup();
    EXPECT_EQ(setup.base % 4096, 0u);
    EXPECT_GE(setup.base, first);
    EXPECT_LE(setup.base, last);
    EXPECT_NE(setup.secret, 0u);
    bases.insert(setup.base);
    secrets.insert(setup.secret);
  }
  // About 261,000 places: 100 draws with more than a couple alike would not be random.
  EXPECT_GE(bases.size(), 98u);
  EXPECT_EQ(secrets.size(), 100u);
  // Below 2 GiB, where AddressSanitizer's shadow memory does not go.
  EXPECT_LE(ShimPlace(last).end(), 0x7fff8000u);
}

}  // namespace
}  // namespace ttdb
