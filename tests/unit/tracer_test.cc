// Pure pieces of the tracer: the syscall table, instruction finding, escaping,
// the syscall buffer's records.
#include <asm/unistd_64.h>
#include <gtest/gtest.h>

#include <cstring>

#include "ttdb/base/bytes.h"
#include "ttdb/tracer/nondet_insn.h"
#include "ttdb/tracer/syscall_buffer.h"
#include "ttdb/tracer/syscall_sites.h"
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

// A clock read as the syscall buffer records it: clock_gettime(clock, where)
// that wrote `time` there.
trace::Event clock_read(std::uint64_t clock, std::uint64_t where, std::int64_t ret, std::uint64_t sec, std::uint64_t nsec) {
  trace::Event e;
  e.kind = trace::EventKind::syscall;
  e.buffered = true;
  e.tid = 77;
  e.nr = __NR_clock_gettime;
  e.ret = ret;
  e.args = {clock, where, 0, 0, 0, 0};
  if (ret == 0) {
    trace::MemWrite m;
    m.addr = where;
    m.size = 16;
    m.data.resize(16);
    std::memcpy(m.data.data(), &sec, 8);
    std::memcpy(m.data.data() + 8, &nsec, 8);
    e.mem.push_back(m);
  }
  return e;
}

// What parse_records makes of the records in `bytes`.
std::vector<trace::Event> parsed(ByteView bytes) {
  std::vector<trace::Event> out;
  parse_records(bytes, 77, [&](trace::Event& e) { out.push_back(e); });
  return out;
}

void expect_same_call(const trace::Event& got, const trace::Event& want) {
  EXPECT_EQ(got.nr, want.nr);
  EXPECT_EQ(got.ret, want.ret);
  EXPECT_EQ(got.args, want.args);
  ASSERT_EQ(got.mem.size(), want.mem.size());
  for (std::size_t i = 0; i < got.mem.size(); ++i) {
    EXPECT_EQ(got.mem[i].addr, want.mem[i].addr);
    EXPECT_EQ(got.mem[i].data, want.mem[i].data);
  }
}

TEST(SyscallBufferRecords, AClockReadTakesA32ByteRecordBothWays) {
  trace::Event e = clock_read(1, 0x7ffd1230, 0, 1700000000, 123456789);
  Bytes arena;
  QueueRecord laid = lay_out_record(e, nullptr, 0, arena, /*clock_records=*/true);
  ASSERT_EQ(laid.size, 32u);
  ASSERT_EQ(arena.size(), 32u);
  // Recording writes the same record (shim.c, record_clock): it reads back as the event.
  auto events = parsed(arena);
  ASSERT_EQ(events.size(), 1u);
  expect_same_call(events[0], e);
  EXPECT_TRUE(events[0].buffered);

  // A shim before version 6 gets the record any other call would have.
  Bytes whole;
  QueueRecord general = lay_out_record(e, nullptr, 0, whole, /*clock_records=*/false);
  EXPECT_GT(general.size, 32u);
  EXPECT_EQ(record_for_shim(arena, 5), whole);
  EXPECT_EQ(record_for_shim(arena, 6), arena);
  EXPECT_EQ(record_for_shim(whole, 5), whole);
  expect_same_call(parsed(whole).at(0), e);
}

// A loop's clock reads come one after another, of one clock or another,
// between other calls and rdtsc reads; parse_records gives each its own
// event, though the consumer marks them (as FdStreams marks output).
TEST(SyscallBufferRecords, ARunOfClockReadsGivesEachItsOwnEvent) {
  trace::Event other;
  other.kind = trace::EventKind::syscall;
  other.buffered = true;
  other.tid = 77;
  other.nr = __NR_getpid;
  other.ret = 77;
  trace::Event tsc;
  tsc.kind = trace::EventKind::rdtsc;
  tsc.tid = 77;
  tsc.args = {0x555555555221, 0xa0933272ebbe, 0, 0, 0, 0};
  tsc.buffered = true;
  std::vector<trace::Event> written = {
      clock_read(1, 0x7ffd1230, 0, 1700000000, 123456789), clock_read(1, 0x7ffd1230, 0, 1700000000, 123456999),
      tsc,
      clock_read(0, 0x7ffd1240, 0, 1800000000, 5),         clock_read(1, 0x7ffd1230, -22, 0, 0),
      other,
      clock_read(1, 0x7ffd1250, 0, 1700000001, 7),
  };
  Bytes arena;
  for (const trace::Event& e : written) lay_out_record(e, nullptr, 0, arena, /*clock_records=*/true);
  std::vector<trace::Event> got;
  parse_records(arena, 77, [&](trace::Event& e) {
    got.push_back(e);
    e.emit = 1;
  });
  ASSERT_EQ(got.size(), written.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(got[i].kind, written[i].kind);
    EXPECT_EQ(got[i].emit, 0);
    if (got[i].kind == trace::EventKind::syscall) expect_same_call(got[i], written[i]);
  }
}

TEST(SyscallBufferRecords, AnRdtscSitesReadTakesA24ByteRecordBothWays) {
  trace::Event e;
  e.kind = trace::EventKind::rdtsc;
  e.tid = 77;
  e.args = {0x555555555221, 0xa0933272ebbe, 0, 0, 0, 0};
  e.buffered = true;
  Bytes arena;
  QueueRecord laid = lay_out_record(e, nullptr, 0, arena, /*clock_records=*/true);
  ASSERT_EQ(laid.size, 24u);
  // Recording writes the same record (shim.c, record_tsc): it reads back as the event.
  auto events = parsed(arena);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, trace::EventKind::rdtsc);
  EXPECT_EQ(events[0].nr, 0);
  EXPECT_EQ(events[0].args, e.args);
  EXPECT_TRUE(events[0].buffered);
  // An rdtsc the recorder emulated has no record: replay stops for it.
  e.buffered = false;
  EXPECT_EQ(lay_out_record(e, nullptr, 0, arena, true).size, 0u);
}

TEST(SyscallSites, RdtscSitesKeepTheirMovedBytesInAPatchEvent) {
  SyscallSite call;
  call.addr = 0x7ffff7e0f11d;
  call.length = 8;
  DisplacedInsn cmp;
  cmp.imm = -4095;
  call.after = {cmp};
  SyscallSite tsc;
  tsc.addr = 0x55555555521f;
  tsc.length = 9;
  tsc.tsc = true;
  tsc.displaced = {0x48, 0x8b, 0x05, 0x10, 0x20, 0x00, 0x00};  // mov rax, [rip + 0x2010]
  tsc.rip_relative = {{3, 7}};
  auto back = deserialize_sites(serialize_sites({call, tsc}));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0], call);
  EXPECT_EQ((*back)[1], tsc);
  // Cut short, or claiming more moved bytes than a trampoline holds: not sites.
  Bytes bytes = serialize_sites({tsc});
  EXPECT_FALSE(deserialize_sites(ByteView(bytes).first(bytes.size() - 1)));
  bytes[8] = 40;
  EXPECT_FALSE(deserialize_sites(bytes));
}

TEST(SyscallSites, ASiteThatReturnsHasTheReturnAlone) {
  // getuid's `syscall; ret`, padded: the return is its one displaced
  // instruction, and its patch covers 5 bytes.
  SyscallSite wrapper;
  wrapper.addr = 0x7ffff7ea84e5;
  wrapper.length = 5;
  DisplacedInsn ret;
  ret.op = DisplacedInsn::Op::ret;
  wrapper.after = {ret};
  auto back = deserialize_sites(serialize_sites({wrapper}));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0], wrapper);
  // After another instruction (the shim would not tell the site returns,
  // and would take a stop tail it never reaches), or longer: not a site.
  DisplacedInsn test;
  test.op = DisplacedInsn::Op::test;
  SyscallSite tested = wrapper;
  tested.after = {test, ret};
  EXPECT_FALSE(deserialize_sites(serialize_sites({tested})));
  SyscallSite longer = wrapper;
  longer.length = 8;
  EXPECT_FALSE(deserialize_sites(serialize_sites({longer})));
}

TEST(SyscallBufferRecords, ClockReadsAClockRecordCannotHoldStayWhole) {
  // A failed read, a clock past 255, an argument the record has no room for.
  trace::Event failed = clock_read(1, 0x7ffd1230, -22, 0, 0);
  trace::Event far_clock = clock_read(300, 0x7ffd1230, 0, 5, 6);
  trace::Event third_arg = clock_read(1, 0x7ffd1230, 0, 5, 6);
  third_arg.args[2] = 9;
  for (const trace::Event* e : {&failed, &far_clock, &third_arg}) {
    Bytes arena;
    QueueRecord laid = lay_out_record(*e, nullptr, 0, arena, /*clock_records=*/true);
    EXPECT_GT(laid.size, 32u);
    EXPECT_EQ(record_for_shim(arena, 5), arena);
  }
}

}  // namespace
}  // namespace ttdb
