// Pure pieces of the tracer: the syscall table, instruction finding, escaping.
#include <asm/unistd_64.h>
#include <gtest/gtest.h>

#include "ttdb/base/bytes.h"
#include "ttdb/tracer/nondet_insn.h"
#include "ttdb/tracer/syscall_table.h"

namespace ttdb {
namespace {

TEST(SyscallTable, KnowsTheCommonCalls) {
  const SyscallInfo* read = find_syscall(__NR_read);
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(read->name, "read");
  EXPECT_EQ(read->policy, ReplayPolicy::emulate);
  ASSERT_EQ(read->args.size(), 3u);
  EXPECT_EQ(read->args[1].format, ArgFormat::out);
  EXPECT_EQ(read->args[1].size.from, SizeRule::From::ret);

  const SyscallInfo* mmap = find_syscall(__NR_mmap);
  ASSERT_NE(mmap, nullptr);
  EXPECT_EQ(mmap->policy, ReplayPolicy::mmap);
  EXPECT_TRUE(mmap->ret_hex);

  const SyscallInfo* poll = find_syscall(__NR_poll);
  ASSERT_NE(poll, nullptr);
  std::uint64_t args[6] = {0x1000, 3, 0, 0, 0, 0};
  EXPECT_EQ(poll->args[0].size.size(args, 1), 24u);  // three pollfds of 8 bytes

  EXPECT_EQ(find_syscall(__NR_clone)->policy, ReplayPolicy::spawn);
  EXPECT_TRUE(find_syscall(__NR_openat)->ret_fd);
  EXPECT_EQ(syscall_number("getdents64"), __NR_getdents64);
  EXPECT_EQ(syscall_name(9999), "syscall_9999");
}

TEST(RandFinder, FindsRealInstructionsOnly) {
  // mov $1,%eax; rdrand %eax; rdseed %rbx; rdrand %r13w (66 41 0f c7 f5); ret
  Bytes code = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xc7, 0xf0, 0x48, 0x0f, 0xc7, 0xfb,
                0x66, 0x41, 0x0f, 0xc7, 0xf5, 0xc3};
  auto sites = find_rand_instructions(0x1000, code);
  ASSERT_EQ(sites.size(), 3u);
  EXPECT_EQ(sites[0].addr, 0x1005u);
  EXPECT_FALSE(sites[0].seed());
  EXPECT_EQ(sites[0].reg, 0);
  EXPECT_EQ(sites[0].width, 32);
  EXPECT_EQ(sites[0].length, 3);
  EXPECT_EQ(sites[1].addr, 0x1008u);
  EXPECT_TRUE(sites[1].seed());
  EXPECT_EQ(sites[1].reg, 3);
  EXPECT_EQ(sites[1].width, 64);
  EXPECT_EQ(sites[2].addr, 0x100cu);
  EXPECT_EQ(sites[2].reg, 13);
  EXPECT_EQ(sites[2].width, 16);
  EXPECT_EQ(sites[2].length, 5);

  // The same bytes inside an immediate are not an instruction:
  // mov $0x90f0c70f,%eax; ret
  Bytes hidden = {0xb8, 0x0f, 0xc7, 0xf0, 0x90, 0xc3};
  EXPECT_TRUE(find_rand_instructions(0x2000, hidden).empty());

  // rdtsc (0f 31) and rdtscp (0f 01 f9), and 0f 31 inside an immediate:
  // rdtsc; mov $0x90310f90,%eax; rdtscp; ret
  Bytes tsc = {0x0f, 0x31, 0xb8, 0x90, 0x0f, 0x31, 0x90, 0x0f, 0x01, 0xf9, 0xc3};
  auto tsc_sites = find_rand_instructions(0x3000, tsc);
  ASSERT_EQ(tsc_sites.size(), 2u);
  EXPECT_EQ(tsc_sites[0].addr, 0x3000u);
  EXPECT_EQ(tsc_sites[0].insn, NondetInsn::rdtsc);
  EXPECT_EQ(tsc_sites[0].length, 2);
  EXPECT_EQ(tsc_sites[1].addr, 0x3007u);
  EXPECT_EQ(tsc_sites[1].insn, NondetInsn::rdtscp);
  EXPECT_EQ(tsc_sites[1].length, 3);
  EXPECT_TRUE(tsc_sites[1].tsc());
}

TEST(Bytes, EscapesLikeStrace) {
  Bytes data = {'a', '\n', 0, '1', 0xff, '"'};
  EXPECT_EQ(escape_bytes(data, 100), "\"a\\n\\0001\\377\\\"\"");
  EXPECT_EQ(escape_bytes(data, 2), "\"a\\n\"...");
}

}  // namespace
}  // namespace ttdb
