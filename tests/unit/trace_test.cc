// The trace writer and reader agree, and blobs are stored once.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>

#include "ttdb/base/error.h"
#include "ttdb/trace/format.h"
#include "ttdb/trace/reader.h"
#include "ttdb/trace/writer.h"

namespace ttdb::trace {
namespace {

std::string temp_trace(const char* name) {
  auto path = std::filesystem::temp_directory_path() / (std::string("ttdb-unit-") + name + std::to_string(::getpid()) + ".ttdb");
  std::filesystem::remove(path);
  return path.string();
}

// Writes `count` events made by `make` to a new trace at `path`, and reads
// them back from the trace's start, from chunk boundaries and from the
// middle of chunks (a chunk holds 4096), one at a time and in order.
void expect_read_back_as_written(const std::string& path, int count, const std::function<Event(int)>& make,
                                 const std::function<bool(const Event&, const Event&)>& same) {
  {
    TraceWriter writer(path);
    for (int i = 0; i < count; ++i) writer.add_event(make(i));
    writer.finish();
  }
  TraceReader reader(path);
  for (int i : {0, 1, 2, 3, 4095, 4096, 4097, 5000, count - 1}) {
    auto e = reader.event(i + 1);
    ASSERT_TRUE(e) << i;
    EXPECT_TRUE(same(*e, make(i))) << "event " << i + 1;
  }
  for (int first : {1, 2, 4096, 4098}) {
    auto cursor = reader.cursor(first);
    Event e;
    int i = first - 1;
    for (; cursor.next(e); ++i) ASSERT_TRUE(same(e, make(i))) << "event " << i + 1 << " from " << first;
    EXPECT_EQ(i, count);
  }
}

// The events' bytes before compression (the chunks' sizes), or -1.
std::int64_t encoded_bytes(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_stmt* sum = nullptr;
  std::int64_t bytes = -1;
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "SELECT sum(size) FROM chunks", -1, &sum, nullptr) == SQLITE_OK && sqlite3_step(sum) == SQLITE_ROW)
    bytes = sqlite3_column_int64(sum, 0);
  sqlite3_finalize(sum);
  sqlite3_close(db);
  return bytes;
}

TEST(Trace, EventsRoundTrip) {
  std::string path = temp_trace("roundtrip");
  Bytes big(100000, 7);
  {
    TraceWriter writer(path);
    writer.set_meta(meta::program, "/bin/true");
    writer.set_argv({"true", "x y"});
    Event e;
    e.kind = EventKind::syscall;
    e.tid = 42;
    e.nr = 0;
    e.args = {3, 0x1000, 4096, 0, 0, 0};
    e.ret = 5;
    e.path = "/etc/passwd";
    e.digest = 0xfedcba9876543210ull;
    e.preview = {1, 2, 3};
    e.emit = 1;
    MemWrite small;
    small.addr = 0x1000;
    small.size = 5;
    small.data = {'h', 'e', 'l', 'l', 'o'};
    MemWrite large;
    large.addr = 0x2000;
    large.size = big.size();
    large.data = big;
    e.mem = {small, large};
    EXPECT_EQ(writer.add_event(e), 1);
    Event second;
    second.kind = EventKind::exit;
    second.ret.reset();
    second.mem = {large};  // the same bytes again: stored once
    EXPECT_EQ(writer.add_event(second), 2);
    writer.set_meta(meta::finished, std::int64_t{1});
    writer.finish();
  }
  TraceReader reader(path);
  EXPECT_EQ(reader.meta(meta::program), "/bin/true");
  EXPECT_EQ(reader.argv(), (std::vector<std::string>{"true", "x y"}));
  EXPECT_TRUE(reader.finished());
  EXPECT_EQ(reader.event_count(), 2);
  auto e = reader.event(1);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->tid, 42);
  EXPECT_EQ(e->args[1], 0x1000u);
  EXPECT_EQ(e->ret, 5);
  EXPECT_EQ(e->path, "/etc/passwd");
  EXPECT_FALSE(e->path2);
  EXPECT_EQ(e->digest, 0xfedcba9876543210ull);
  EXPECT_EQ(e->preview, (Bytes{1, 2, 3}));
  EXPECT_EQ(e->emit, 1);
  ASSERT_EQ(e->mem.size(), 2u);
  EXPECT_EQ(reader.mem_bytes(e->mem[0]), (Bytes{'h', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(reader.mem_bytes(e->mem[1]), big);
  auto exit = reader.event(2);
  ASSERT_TRUE(exit);
  EXPECT_FALSE(exit->ret);
  EXPECT_EQ(exit->mem[0].blob, e->mem[1].blob);
  // Compressed: 100000 equal bytes take far less room.
  EXPECT_LT(std::filesystem::file_size(path), 60000u);
  std::filesystem::remove(path);
}

TEST(Trace, CursorStreamsFromAnEvent) {
  std::string path = temp_trace("cursor");
  {
    TraceWriter writer(path);
    for (int i = 0; i < 100; ++i) {
      Event e;
      e.nr = i;
      if (i % 10 == 0) {
        MemWrite m;
        m.addr = static_cast<std::uint64_t>(i);
        m.size = 1;
        m.data = {static_cast<std::uint8_t>(i)};
        e.mem.push_back(m);
      }
      writer.add_event(e);
    }
    writer.finish();
  }
  TraceReader reader(path);
  auto cursor = reader.cursor(41);
  Event e;
  std::int64_t expected = 41;
  while (cursor.next(e)) {
    EXPECT_EQ(e.id, expected);
    EXPECT_EQ(e.nr, expected - 1);
    EXPECT_EQ(e.mem.size(), (e.nr % 10 == 0) ? 1u : 0u) << e.id;
    ++expected;
  }
  EXPECT_EQ(expected, 101);
  std::filesystem::remove(path);
}

// Format 10 writes arguments and addresses against the event before, within
// a chunk: whichever event a reader starts from, and however arguments
// come and go (all zero, some equal, all new), it reads what was written.
TEST(Trace, EventsWrittenAgainstTheOnesBeforeReadBackAsWritten) {
  std::string path = temp_trace("deltas");
  auto event_number = [](int i) {
    Event e;
    e.kind = EventKind::syscall;
    e.tid = 1000 + i % 3;
    e.nr = 228;
    if (i % 7 != 3) e.args = {1, 0x7ffd1000, static_cast<std::uint64_t>(i % 5), 0, 0, i % 11 == 0 ? ~0ull : 0};
    e.ret = 0;
    MemWrite m;
    m.addr = i % 13 == 0 ? 0x7ffd0000 - static_cast<std::uint64_t>(i) : 0x7ffd1000;
    m.size = 2;
    m.data = {static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i >> 8)};
    e.mem = {m};
    if (i % 17 == 0) e.mem.push_back(m), e.mem.back().addr = 0x1000;
    return e;
  };
  constexpr int kEvents = 10000;  // more than a chunk holds
  auto same = [](const Event& a, const Event& b) {
    if (a.tid != b.tid || a.args != b.args || a.mem.size() != b.mem.size()) return false;
    for (std::size_t i = 0; i < a.mem.size(); ++i)
      if (a.mem[i].addr != b.mem[i].addr || a.mem[i].data != b.mem[i].data) return false;
    return true;
  };
  ASSERT_NO_FATAL_FAILURE(expect_read_back_as_written(path, kEvents, event_number, same));
  // A clock read repeated takes a few bytes for its unchanged arguments
  // and address (48 bytes an event before format 10).
  std::int64_t bytes = encoded_bytes(path);
  EXPECT_GT(bytes, 0);
  EXPECT_LT(bytes, 22 * kEvents);
  std::filesystem::remove(path);
}

// Format 11 writes an event that is the one before it again but for its
// result and a small output as a repeat of it: whatever the results and
// bytes do (wrap around, jump, stay), and whichever event a reader starts
// from, it reads what was written; a clock loop's event takes a few bytes.
TEST(Trace, RepeatedEventsReadBackAsWritten) {
  std::string path = temp_trace("repeats");
  auto event_number = [](int i) {
    Event e;
    e.kind = i % 97 == 5 ? EventKind::rdtsc : EventKind::syscall;
    e.tid = i % 211 == 7 ? 1001 : 1000;
    e.nr = i % 89 == 3 ? 96 : 228;
    e.args = {1, 0x7ffd1000, 0, 0, 0, 0};
    e.buffered = i % 53 != 9;
    // Results near both ends of the range, so that differences wrap.
    e.ret = i % 31 == 1 ? INT64_MIN + i : i % 29 == 2 ? INT64_MAX - i : 0;
    if (i % 101 == 4) e.ret.reset();
    if (i % 67 == 6) e.path = "/tmp";
    // Each part a repeat leaves out, now and then (the event is written whole).
    if (i % 37 == 18) e.path2 = "/var";
    if (i % 47 == 16) e.digest = 0x1234 + static_cast<std::uint64_t>(i);
    if (i % 41 == 17) e.preview = {'x', static_cast<std::uint8_t>(i)};
    if (i % 73 == 14) e.emit = 1 + i % 2;
    if (i % 79 == 15) e.info = {1, 2, static_cast<std::uint8_t>(i)};
    if (i % 71 == 8) return e;  // no memory write
    // A timespec that moves on as a clock does, and now and then jumps or
    // wraps; now and then a write of 3 bytes, or of 40 (too long to repeat).
    std::uint64_t words[5] = {1700000000ull + static_cast<std::uint64_t>(i) / 1000, 40ull * static_cast<std::uint64_t>(i) % 1000000000ull,
                              ~0ull * static_cast<std::uint64_t>(i % 2), 0, 0};
    if (i % 43 == 10) words[0] = ~0ull - static_cast<std::uint64_t>(i);
    std::size_t size = i % 59 == 11 ? 3 : i % 61 == 12 ? 40 : 16;
    MemWrite m;
    m.addr = i % 83 == 13 ? 0x7ffd2000 : 0x7ffd1000;
    m.size = size;
    m.data.assign(reinterpret_cast<const std::uint8_t*>(words), reinterpret_cast<const std::uint8_t*>(words) + size);
    e.mem = {m};
    return e;
  };
  auto same = [](const Event& a, const Event& b) {
    if (a.kind != b.kind || a.tid != b.tid || a.nr != b.nr || a.args != b.args || a.ret != b.ret ||
        a.path != b.path || a.path2 != b.path2 || a.digest != b.digest || a.preview != b.preview ||
        a.emit != b.emit || a.info != b.info || a.buffered != b.buffered || a.mem.size() != b.mem.size())
      return false;
    for (std::size_t i = 0; i < a.mem.size(); ++i)
      if (a.mem[i].addr != b.mem[i].addr || a.mem[i].size != b.mem[i].size || a.mem[i].data != b.mem[i].data ||
          a.mem[i].blob || a.mem[i].file)
        return false;
    return true;
  };
  constexpr int kEvents = 10000;  // more than a chunk holds
  ASSERT_NO_FATAL_FAILURE(expect_read_back_as_written(path, kEvents, event_number, same));
  std::filesystem::remove(path);

  // A loop of clock reads: a byte for the repeat, one for the result, one
  // or two for each word of the time.
  {
    TraceWriter writer(path);
    for (int i = 0; i < kEvents; ++i) {
      Event e = event_number(0);
      std::uint64_t words[2] = {1700000000, 123456789 + 45ull * static_cast<std::uint64_t>(i)};
      std::memcpy(e.mem[0].data.data(), words, sizeof words);
      writer.add_event(e);
    }
    writer.finish();
  }
  std::int64_t bytes = encoded_bytes(path);
  EXPECT_GT(bytes, 0);
  EXPECT_LT(bytes, 5 * kEvents);
  // A chunk that begins with a repeat has nothing to repeat: corrupt.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE chunks SET codec = 0, size = 3, data = X'000000' WHERE first = 1", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  TraceReader reader(path);
  EXPECT_THROW(reader.event(1), Error);
  std::filesystem::remove(path);
}

// Events of formats 2 to 9 carry their arguments and addresses whole.
TEST(Trace, EventsOfEarlierFormatsStillRead) {
  std::string path = temp_trace("format9");
  {
    TraceWriter writer(path);
    writer.add_event(Event{});
    writer.finish();
  }
  // A syscall event (kind 2) with fields ret | mem | args (0x181), tid 7,
  // nr 228 (zigzag 456), args 1, 0x1000, 0 x4; ret 0; one write of "hi" at
  // 0x1000 from the event's own bytes.
  const char* update =
      "UPDATE chunks SET codec = 0, size = 22, "
      "data = X'02810307c80301802000000000000180200200026869'";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, update, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  TraceReader reader(path);
  auto e = reader.event(1);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, EventKind::syscall);
  EXPECT_EQ(e->tid, 7);
  EXPECT_EQ(e->nr, 228);
  EXPECT_EQ(e->args, (std::array<std::uint64_t, 6>{1, 0x1000, 0, 0, 0, 0}));
  EXPECT_EQ(e->ret, 0);
  ASSERT_EQ(e->mem.size(), 1u);
  EXPECT_EQ(e->mem[0].addr, 0x1000u);
  EXPECT_EQ(e->mem[0].data, (Bytes{'h', 'i'}));
  std::filesystem::remove(path);
}

// A kind no ttdb writes is refused, whatever its size: one past int's
// range once wrapped to 0 and read as a repeat (a fuzzer found it).
TEST(Trace, AnEventOfAnUnknownKindIsRefused) {
  std::string path = temp_trace("unknown_kind");
  {
    TraceWriter writer(path);
    writer.add_event(Event{});
    writer.finish();
  }
  for (const char* kind : {"0d", "8080808010"}) {  // 13 and 2^32
    std::string update = std::string("UPDATE chunks SET codec = 0, size = ") +
                         std::to_string(std::strlen(kind) / 2 + 3) + ", data = X'" + kind + "000000'";
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, update.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    TraceReader reader(path);
    try {
      reader.event(1);
      ADD_FAILURE() << "an event of kind " << kind << " was read";
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("which no ttdb writes"), std::string::npos) << error.what();
    }
  }
  std::filesystem::remove(path);
}

TEST(Trace, RefusesToOverwrite) {
  std::string path = temp_trace("exists");
  { TraceWriter writer(path); }
  EXPECT_THROW(TraceWriter again(path), ::ttdb::Error);
  std::filesystem::remove(path);
}

// A damaged trace may claim any size for a compressed chunk or blob: it is
// refused as corrupt before that much memory is asked for.
TEST(Trace, CorruptSizesAreRefusedBeforeAllocating) {
  Bytes data(1000, 7);
  Bytes packed = compress(data, 3);
  EXPECT_EQ(decompress(packed, data.size()), data);
  for (std::size_t claimed : {std::size_t{999}, std::size_t{1001}, std::size_t{1} << 40, SIZE_MAX})
    EXPECT_THROW(decompress(packed, claimed), ::ttdb::Error) << claimed;
  EXPECT_THROW(decompress(Bytes{1, 2, 3, 4}, 4), ::ttdb::Error);

  std::string path = temp_trace("sizes");
  std::int64_t blob = 0;
  {
    TraceWriter writer(path);
    blob = writer.store_blob(Bytes(100000, 9));
    writer.add_event(Event{});
    writer.finish();
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE blobs SET size = -1; UPDATE chunks SET size = 1 << 50, codec = 1", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  TraceReader reader(path);
  try {
    reader.blob(blob);
    ADD_FAILURE() << "a blob of -1 bytes was read";
  } catch (const ::ttdb::Error& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt"), std::string::npos) << e.what();
  }
  EXPECT_THROW(reader.event(1), ::ttdb::Error);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace ttdb::trace
