// The records of the syscall buffer: taken from the shim while recording and
// parsed into events, and laid out from the events for replay's queue.
#include <asm/unistd_64.h>
#include <sys/mman.h>

#include <cstring>
#include <deque>

#include "shim_control.h"
#include "ttdb/base/log.h"
#include "ttdb/tracer/syscall_buffer.h"
#include "ttdb/tracer/syscall_table.h"

namespace ttdb {

namespace {
// Takes of fewer bytes read the records through rather than read one more
// counter of the shim's: most stops take a few records, or none.
constexpr std::uint64_t kCountedByShim = 64 * 1024;
}  // namespace

ShimRecords take_records(Tracee& tracee, const ShimPlace& shim, std::uint64_t& taken, Emptying emptying) {
  static_assert(offsetof(ttdb_shim_record, size) == 0);
  std::uint64_t state[3] = {0, 0, 0};  // in_call, used, records
  static_assert(offsetof(Control, used) == offsetof(Control, in_call) + 8);
  static_assert(offsetof(Control, records) == offsetof(Control, used) + 8);
  if (tracee.read_some(CONTROL_FIELD(shim, in_call), state, sizeof state) != sizeof state) return {};
  auto [in_call, used, records] = state;
  if (used > TTDB_SHIM_BUFFER_SIZE || used < taken)
    throw InternalError(fmt::format("the syscall buffer of {} holds {} bytes, {} of them taken", tracee.tid(), used, taken));
  // Stopped inside a hooked call, the thread may write a record at the
  // offset it read when the call began: emptying the buffer now would lose
  // it. The records below `used` are whole (the shim marks one whole
  // before counting it), so those are taken in place.
  bool empties = emptying == Emptying::always || (emptying == Emptying::outside_calls && !in_call);
  ShimRecords out;
  if (used > taken) out.bytes = tracee.read_bytes(shim.buffer() + taken, used - taken);
  // Records of a whole buffer, taken from a stopped thread outside a call,
  // of which none changed memory: the shim's count is theirs, and reading
  // them through is the writer's work alone, not done twice here while the
  // program waits. Otherwise the count is what the bytes hold: a
  // thread killed between the shim's two counters leaves them apart.
  std::uint64_t memory_records = 1;
  if (!in_call && taken == 0 && emptying != Emptying::never && used >= kCountedByShim)
    tracee.read_some(CONTROL_FIELD(shim, memory_records), &memory_records, sizeof memory_records);
  if (memory_records == 0) out.count = records;
  // (Only the fields it needs: copying each whole header was most of it.)
  auto field = [&](std::size_t at, std::size_t offset, auto& value) {
    std::memcpy(&value, out.bytes.data() + at + offset, sizeof value);
  };
  for (std::size_t at = 0; memory_records && at < out.bytes.size(); ++out.count) {
    std::uint32_t size = 0;
    if (out.bytes.size() - at >= TTDB_RECORD_HEADER) field(at, offsetof(ttdb_shim_record, size), size);
    if (size < TTDB_RECORD_HEADER || size > out.bytes.size() - at)
      throw InternalError(fmt::format("the syscall buffer of {} holds a record of {} bytes at offset {}", tracee.tid(), size, at));
    std::uint16_t nr = 0, argc = 0;
    field(at, offsetof(ttdb_shim_record, nr), nr);
    field(at, offsetof(ttdb_shim_record, argc), argc);
    if ((nr == __NR_mprotect || nr == __NR_munmap || nr == __NR_mmap) && size >= sizeof(ttdb_shim_record)) {  // (never compact)
      std::int64_t ret = 0;
      std::uint64_t start = 0, length = 0, flags = 0;
      field(at, offsetof(ttdb_shim_record, ret), ret);
      field(at, offsetof(ttdb_shim_record, args), start);
      field(at, offsetof(ttdb_shim_record, args) + 8, length);
      field(at, offsetof(ttdb_shim_record, args) + 24, flags);
      std::uint64_t end = start + ((length + 4095) & ~std::uint64_t{4095});  // (the kernel's whole pages)
      if (nr != __NR_mmap) {
        if (ret == 0) out.memory_changes.push_back(MemoryChange{nr == __NR_munmap, start, end});
      } else if (!is_error_result(ret)) {
        // An mmap at a fixed place replaced what was there, as an munmap would have.
        if (flags & MAP_FIXED) out.memory_changes.push_back(MemoryChange{true, start, end});
        if ((argc & TTDB_RECORD_FILE) && size >= sizeof(ttdb_shim_record) + 8) {
          MappedFile mapped;
          mapped.addr = static_cast<std::uint64_t>(ret);
          mapped.length = length;
          field(at, offsetof(ttdb_shim_record, args) + 40, mapped.offset);
          field(at, sizeof(ttdb_shim_record), mapped.index);
          out.mapped_files.push_back(mapped);
        }
      }
    }
    at += size;
  }
  taken = used;
  if (empties && used) {
    static const std::uint64_t zero[2] = {0, 0};
    write_field(tracee, CONTROL_FIELD(shim, used), zero);
    // (Read only for a large take: after a small one it may stay above 0
    // until the next large one reads it, which then reads the records through.)
    if (memory_records && used >= kCountedByShim) write_field(tracee, CONTROL_FIELD(shim, memory_records), zero[0]);
    taken = 0;
  }
  return out;
}

namespace {

class RecordReader {
 public:
  explicit RecordReader(ByteView bytes) : bytes_(bytes) {}
  bool done() const { return at_ >= bytes_.size(); }
  template <typename T>
  T value() {
    T v;
    std::memcpy(&v, take(sizeof v).data(), sizeof v);
    return v;
  }
  ByteView take(std::size_t n) {
    if (bytes_.size() - at_ < n) throw InternalError("a syscall buffer record is cut short");
    ByteView out = bytes_.subspan(at_, n);
    at_ += n;
    return out;
  }
  void seek(std::size_t at) { at_ = at; }
  std::size_t at() const { return at_; }

 private:
  ByteView bytes_;
  std::size_t at_ = 0;
};

// What a clock record sets of `e`, which is the event of another already.
void read_clock_time(ByteView bytes, trace::Event& e) {
  ttdb_clock_record rec;
  std::memcpy(&rec, bytes.data(), sizeof rec);
  e.nr = rec.nr;
  e.args[0] = rec.argc & 0xffu;
  e.args[1] = rec.where;
  trace::MemWrite& m = e.mem.front();
  m.addr = rec.where;
  std::memcpy(m.data.data(), rec.time, sizeof rec.time);
  e.emit = 0;  // (what `out` may have set: parse_records)
}

// A clock record (shim_abi.h) as the event it stands for: the shape of
// every clock read's event, then this one's.
void read_clock_record(ByteView bytes, trace::Event& e) {
  e.ret = 0;
  e.args = {};
  e.path.reset();
  e.path2.reset();
  e.digest.reset();
  e.preview.clear();
  e.info.clear();
  e.mem.resize(1);
  trace::MemWrite& m = e.mem.front();
  m.size = sizeof(ttdb_clock_record::time);
  m.data.resize(m.size);
  m.blob.reset();
  m.file.reset();
  m.file_offset = 0;
  read_clock_time(bytes, e);
}

// An rdtsc site's record (version 7): the same event as an rdtsc the
// recorder emulates (nr 0: not rdtscp), buffered.
trace::Event tsc_event(ByteView bytes, int tid) {
  ttdb_tsc_record rec;
  std::memcpy(&rec, bytes.data(), sizeof rec);
  trace::Event e;
  e.kind = trace::EventKind::rdtsc;
  e.tid = tid;
  e.nr = 0;
  e.args = {rec.where, rec.value, 0, 0, 0, 0};
  e.buffered = true;
  return e;
}

}  // namespace

void parse_records(ByteView records, int tid, const std::function<void(trace::Event&)>& out,
                   std::span<const MappedFileEvent> files) {
  RecordReader in(records);
  trace::Event e;
  e.kind = trace::EventKind::syscall;
  e.tid = tid;
  e.buffered = true;
  const SyscallInfo* info = nullptr;
  bool clock_shaped = false;  // `e` is the event of a clock record
  while (!in.done()) {
    std::size_t start = in.at();
    ttdb_shim_record rec{};
    std::memcpy(&rec, in.take(TTDB_RECORD_HEADER).data(), TTDB_RECORD_HEADER);
    if (rec.argc & TTDB_RECORD_CLOCK) {
      in.seek(start);
      ByteView clock = in.take(TTDB_CLOCK_RECORD_SIZE);
      // (A loop's clock reads come in runs: after the first, only what a
      // read sets changes.)
      if (clock_shaped)
        read_clock_time(clock, e);
      else
        read_clock_record(clock, e);
      clock_shaped = true;
      in.seek(start + rec.size);
      out(e);
      continue;
    }
    if (rec.nr == TTDB_TSC_RECORD_NR && rec.argc == TTDB_RECORD_TSC) {
      in.seek(start);
      trace::Event tsc = tsc_event(in.take(TTDB_TSC_RECORD_SIZE), tid);
      in.seek(start + rec.size);
      out(tsc);
      continue;
    }
    clock_shaped = false;
    // A compact record holds only the arguments it names (shim_abi.h).
    std::size_t held = rec.argc & TTDB_RECORD_COMPACT ? std::min(rec.argc & 0xffu, 6u) : 6;
    std::memcpy(rec.args, in.take(held * 8).data(), held * 8);
    e.nr = rec.nr;
    e.ret = rec.ret;
    e.path.reset();
    e.path2.reset();
    e.digest.reset();
    e.preview.clear();
    e.emit = 0;
    e.info.clear();
    std::size_t writes = 0;
    std::copy(rec.args, rec.args + 6, e.args.begin());
    // (Runs of one call are common: a loop's.)
    if (!info || info->nr != rec.nr) info = find_syscall(rec.nr);
    if (!info) throw InternalError(fmt::format("the syscall buffer recorded syscall {}, which it does not know", rec.nr));
    for (std::size_t i = 0; i < info->args.size(); ++i) {
      switch (info->args[i].format) {
        case ArgFormat::s: {
          auto len = in.value<std::uint32_t>();
          ByteView text = in.take(len);
          (e.path ? e.path2 : e.path) = std::string(text.begin(), text.end());
          break;
        }
        case ArgFormat::in: {
          e.digest = in.value<std::uint64_t>();
          auto len = in.value<std::uint32_t>();
          ByteView preview = in.take(len);
          e.preview.assign(preview.begin(), preview.end());
          break;
        }
        case ArgFormat::out: {
          auto len = in.value<std::uint32_t>();
          ByteView data = in.take(len);
          if (len == 0) break;
          if (writes == e.mem.size()) e.mem.emplace_back();
          trace::MemWrite& m = e.mem[writes++];
          m.addr = rec.args[i];
          m.size = len;
          m.data.assign(data.begin(), data.end());
          m.blob.reset();
          m.file.reset();
          m.file_offset = 0;
          break;
        }
        default: break;
      }
    }
    e.mem.resize(writes);
    if (rec.argc & TTDB_RECORD_FILE) {
      if (files.empty()) throw InternalError("the syscall buffer recorded an mmap of a file the recorder did not name");
      e.mem.push_back(files.front().content);
      e.info = files.front().info;
      files = files.subspan(1);
    }
    in.seek(start + rec.size);
    out(e);
  }
}

ShimQueue read_queue(Tracee& tracee, const ShimPlace& shim) {
  struct {
    std::uint64_t queued_records, queued_bytes, consumed_records, consumed_bytes;
    std::int64_t first_event;
  } q{};
  static_assert(offsetof(Control, first_event) == offsetof(Control, queued_records) + 32);
  if (tracee.read_some(CONTROL_FIELD(shim, queued_records), &q, sizeof q) != sizeof q) return {};
  return ShimQueue{q.first_event, q.queued_records, q.consumed_records};
}

namespace {

// What one argument of a call puts in its queued record: a path, an input
// (its digest, with room for the shim's copy: the first input only), or
// what the kernel wrote there (none: nothing).
struct RecordPart {
  enum class Kind { path, input, output } kind;
  const std::optional<std::string>* path = nullptr;
  bool first_input = false;
  const trace::MemWrite* output = nullptr;
};

// Calls `visit` with each part of `e`'s record, in order.
template <typename Visit>
void for_each_part(const trace::Event& e, const SyscallInfo& info, Visit&& visit) {
  bool first_path = true, first_input = true;
  std::size_t mem = 0;
  for (std::size_t i = 0; i < info.args.size(); ++i) {
    switch (info.args[i].format) {
      case ArgFormat::s:
        visit(RecordPart{RecordPart::Kind::path, std::exchange(first_path, false) ? &e.path : &e.path2, false, nullptr});
        break;
      case ArgFormat::in:
        visit(RecordPart{RecordPart::Kind::input, nullptr, std::exchange(first_input, false), nullptr});
        break;
      case ArgFormat::out: {
        const trace::MemWrite* m = mem < e.mem.size() && e.mem[mem].addr == e.args[i] ? &e.mem[mem++] : nullptr;
        visit(RecordPart{RecordPart::Kind::output, nullptr, false, m});
        break;
      }
      default: break;
    }
  }
}

// A clock read a clock record holds (shim_abi.h): what read_clock_record
// makes of one.
bool is_clock_record_event(const trace::Event& e) {
  if (e.nr != __NR_clock_gettime || e.ret != 0 || e.args[0] >= 256 || e.args[1] == 0 || e.mem.size() != 1) return false;
  for (std::size_t i = 2; i < e.args.size(); ++i)
    if (e.args[i] != 0) return false;
  const trace::MemWrite& m = e.mem.front();
  return m.addr == e.args[1] && m.size == 16 && m.data.size() == 16 && !m.blob && !m.file;
}

QueueRecord lay_out_tsc_record(const trace::Event& e, Bytes& arena) {
  ttdb_tsc_record rec{TTDB_TSC_RECORD_SIZE, TTDB_TSC_RECORD_NR, TTDB_RECORD_TSC, e.args[0], e.args[1]};
  static_assert(sizeof rec == TTDB_TSC_RECORD_SIZE);
  QueueRecord out;
  out.offset = arena.size();
  out.size = sizeof rec;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(&rec);
  arena.insert(arena.end(), bytes, bytes + sizeof rec);
  return out;
}

QueueRecord lay_out_clock_record(const trace::Event& e, Bytes& arena) {
  QueueRecord out;
  out.offset = arena.size();
  out.size = TTDB_CLOCK_RECORD_SIZE;
  ttdb_clock_record rec{TTDB_CLOCK_RECORD_SIZE, static_cast<std::uint16_t>(e.nr),
                        static_cast<std::uint16_t>(TTDB_RECORD_CLOCK | e.args[0]), e.args[1], {}};
  std::memcpy(rec.time, e.mem.front().data.data(), sizeof rec.time);
  // (Appended as made: growing the arena first cleared the bytes it then wrote.)
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(&rec);
  arena.insert(arena.end(), bytes, bytes + sizeof rec);
  return out;
}

bool is_clock_record(ByteView record) {
  std::uint16_t argc = 0;
  if (record.size() != TTDB_CLOCK_RECORD_SIZE) return false;
  std::memcpy(&argc, record.data() + offsetof(ttdb_clock_record, argc), sizeof argc);
  return argc & TTDB_RECORD_CLOCK;
}

}  // namespace

Bytes record_for_shim(ByteView record, std::uint64_t shim_version) {
  if (shim_version >= 6 || !is_clock_record(record)) return Bytes(record.begin(), record.end());
  trace::Event e;
  e.kind = trace::EventKind::syscall;
  read_clock_record(record, e);
  Bytes wide;
  lay_out_record(e, nullptr, 0, wide, /*clock_records=*/false);
  return wide;
}

QueueRecord lay_out_record(const trace::Event& e, const std::function<Bytes(const trace::MemWrite&)>& bytes_of,
                           std::uint64_t input_room, Bytes& arena, bool clock_records) {
  if (e.kind == trace::EventKind::rdtsc) return e.buffered && e.nr == 0 ? lay_out_tsc_record(e, arena) : QueueRecord{};
  if (clock_records && is_clock_record_event(e)) return lay_out_clock_record(e, arena);
  const SyscallInfo* info = find_syscall(e.nr);
  if (!info) return {};
  // Sized first, then written.
  std::uint64_t room = std::min<std::uint64_t>(input_room, TTDB_SHIM_BUFFER_SIZE);
  std::size_t size = sizeof(ttdb_shim_record);
  bool maps_file = shim_maps_file_again(e);
  if (maps_file) size += 8;  // (mmap has no parts: right after the arguments)
  for_each_part(e, *info, [&](const RecordPart& part) {
    switch (part.kind) {
      case RecordPart::Kind::path: size += 4 + (*part.path ? (*part.path)->size() : 0); break;
      case RecordPart::Kind::input: size += 12 + (part.first_input ? room : 0); break;
      case RecordPart::Kind::output: {
        const trace::MemWrite* m = part.output;
        size += 4 + (!m ? 0 : m->blob || m->file ? m->size : m->data.size());
        break;
      }
    }
  });
  size = (size + 7) & ~std::size_t{7};
  if (size > TTDB_SHIM_BUFFER_SIZE) return {};  // the shim could never take it: the event stays traced

  QueueRecord out;
  out.offset = arena.size();
  out.size = size;
  arena.resize(arena.size() + size);
  std::uint8_t* p = arena.data() + out.offset;
  // The header's fields go straight to their places: a header made on the
  // stack and copied whole was read back before its small stores were done,
  // which stalled the copy (most of this function's time).
  auto field = [&](std::size_t offset, auto value) { std::memcpy(p + offset, &value, sizeof value); };
  field(offsetof(ttdb_shim_record, size), static_cast<std::uint32_t>(size));
  field(offsetof(ttdb_shim_record, nr), static_cast<std::uint16_t>(e.nr));
  bool makes = shim_makes_again(e);
  auto argc = static_cast<std::uint16_t>(info->args.size() | (makes ? TTDB_RECORD_MAKE : 0) |
                                         (maps_file ? TTDB_RECORD_FILE : 0) |
                                         (makes && info->policy == ReplayPolicy::execute_set_ret ? TTDB_RECORD_GIVE_RET : 0));
  field(offsetof(ttdb_shim_record, argc), argc);
  field(offsetof(ttdb_shim_record, ret), e.ret.value_or(0));
  field(offsetof(ttdb_shim_record, args), e.args);
  static_assert(sizeof(ttdb_shim_record::args) == sizeof(trace::Event::args));
  std::size_t at = sizeof(ttdb_shim_record);
  auto put = [&](const void* data, std::size_t n) {
    if (n) std::memcpy(p + at, data, n);
    at += n;
  };
  auto put_sized = [&](ByteView bytes) {
    auto len = static_cast<std::uint32_t>(bytes.size());
    put(&len, 4);
    put(bytes.data(), len);
  };
  bool whole = true;
  for_each_part(e, *info, [&](const RecordPart& part) {
    switch (part.kind) {
      case RecordPart::Kind::path: put_sized(*part.path ? as_bytes(**part.path) : ByteView()); break;
      case RecordPart::Kind::input: {
        std::uint64_t digest = e.digest.value_or(0);
        auto len = static_cast<std::uint32_t>(part.first_input ? room : 0);
        put(&digest, 8);
        put(&len, 4);
        if (len) {  // the shim's copy goes here
          std::memset(p + at, 0, len);
          out.input_offset = at;
          out.input_size = len;
          at += len;
        }
        break;
      }
      case RecordPart::Kind::output: {
        const trace::MemWrite* m = part.output;
        if (!m || !(m->blob || m->file)) {
          put_sized(m ? ByteView(m->data) : ByteView());
          break;
        }
        Bytes stored = bytes_of(*m);
        whole = whole && stored.size() == m->size;  // (a damaged trace: replay says so where it applies the event)
        if (whole) put_sized(stored);
        break;
      }
    }
  });
  if (!whole) {
    arena.resize(out.offset);
    return {};
  }
  std::memset(p + at, 0, size - at);
  if (maps_file) std::memset(p + at, 0xff, 8);  // no descriptor until queue_records writes one
  return out;
}

std::size_t queue_records(Tracee& tracee, const ShimPlace& shim, std::uint64_t shim_version,
                          const std::vector<QueueEntry>& entries, std::vector<QueuedInput>* inputs) {
  // Written straight from where they were laid out, as few pieces as the
  // records make in a row there (a queue of clock reads: one a batch of
  // 512 events).
  std::vector<ByteView> pieces;
  std::deque<Bytes> widened;  // (a deque: the pieces point into it)
  std::size_t used = 0, queued = 0;
  if (inputs) inputs->clear();
  for (; queued < entries.size(); ++queued) {
    const QueueEntry& entry = entries[queued];
    ByteView record = entry.record;
    if (shim_version < 6 && is_clock_record(record)) record = widened.emplace_back(record_for_shim(record, shim_version));
    if (entry.map_fd >= 0) {
      Bytes& with_fd = widened.emplace_back(record.begin(), record.end());
      std::memcpy(with_fd.data() + sizeof(ttdb_shim_record), &entry.map_fd, sizeof entry.map_fd);
      record = with_fd;
    }
    if (record.empty() || record.size() > TTDB_SHIM_BUFFER_SIZE - used) break;
    if (!pieces.empty() && pieces.back().data() + pieces.back().size() == record.data())
      pieces.back() = ByteView(pieces.back().data(), pieces.back().size() + record.size());
    else
      pieces.push_back(record);
    if (entry.input_size && inputs) inputs->push_back(QueuedInput{entry.event, used + entry.input_offset, entry.input_size});
    used += record.size();
  }
  if (used && !tracee.write_gathered(shim.buffer(), pieces))
    fail("cannot write the syscall buffer's memory at {:#x}", shim.buffer().addr());
  struct {
    std::uint64_t queued_records, queued_bytes, consumed_records, consumed_bytes;
    std::int64_t first_event;
  } q{queued, used, 0, 0, entries.empty() ? 0 : entries.front().event};
  write_field(tracee, CONTROL_FIELD(shim, queued_records), q);
  return queued;
}

static_assert(kShimQueueBytes == TTDB_SHIM_BUFFER_SIZE);

void clear_queue(Tracee& tracee, const ShimPlace& shim) {
  static const std::uint64_t zero[4] = {};
  write_field(tracee, CONTROL_FIELD(shim, queued_records), zero);
}

std::uint64_t buffered_input_size(std::uint64_t count, std::int64_t ret) {
  return ret < 0 ? 0 : std::min(count, static_cast<std::uint64_t>(ret));
}

}  // namespace ttdb
