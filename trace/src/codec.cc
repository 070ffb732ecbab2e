#include "codec.h"

#include <cstring>

#include "ttdb/base/error.h"

namespace ttdb::trace {
namespace {

// Which optional parts an event carries (its second varint).
constexpr std::uint64_t has_ret = 1 << 0, has_path = 1 << 1, has_path2 = 1 << 2, has_digest = 1 << 3,
                        has_preview = 1 << 4, has_emit = 1 << 5, has_info = 1 << 6, has_mem = 1 << 7,
                        has_args = 1 << 8, is_buffered = 1 << 9, changed_args = 1 << 10, addr_deltas = 1 << 11;

// Where a memory write's bytes are.
constexpr std::uint64_t source_data = 0, source_blob = 1, source_file = 2;

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) { return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1); }
// Differences of any two values, and back, as the machine wraps them.
std::int64_t wrapping_difference(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}
std::int64_t wrapping_sum(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

class Input {
 public:
  // Reads from `in`, and moves it past what was read when done: a cursor
  // of its own (in registers) rather than a store to the caller's span
  // after each varint, which made every varint wait for the one before.
  Input(ByteView& in, const std::string& trace)
      : in_(in), at_(in.data()), end_(in.data() + in.size()), trace_(trace) {}
  ~Input() { in_ = ByteView(at_, static_cast<std::size_t>(end_ - at_)); }
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  std::size_t left() const { return static_cast<std::size_t>(end_ - at_); }
  std::uint64_t varint() {
    const std::uint8_t* at = at_;
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at == end_) corrupt();
      std::uint8_t byte = *at++;
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) {
        at_ = at;
        return v;
      }
    }
    corrupt();
  }
  ByteView take(std::uint64_t size) {
    if (size > left()) corrupt();
    ByteView out(at_, size);
    at_ += size;
    return out;
  }
  ByteView bytes() { return take(varint()); }
  std::string text() {
    ByteView b = bytes();
    return std::string(b.begin(), b.end());
  }
  std::uint64_t fixed64() {
    if (left() < 8) corrupt();
    std::uint64_t v;
    std::memcpy(&v, at_, 8);
    at_ += 8;
    return v;
  }
  [[noreturn]] void corrupt() { fail("trace {} is corrupt: a chunk of events ends in the middle of one", trace_); }

 private:
  ByteView& in_;
  const std::uint8_t* at_;
  const std::uint8_t* const end_;
  const std::string& trace_;
};

}  // namespace

namespace {

// Appends to a chunk through a buffer of its own: an event is a dozen
// varints and a few short byte strings, which one insert each made the
// writer's largest cost (a million clock reads: 40% of it).
class Encoder {
 public:
  explicit Encoder(Bytes& out) : out_(out) {}
  ~Encoder() { flush(); }
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  void varint(std::uint64_t v) {
    if (used_ + 10 > sizeof buffer_) flush();
    while (v >= 0x80) {
      buffer_[used_++] = static_cast<std::uint8_t>(v | 0x80);
      v >>= 7;
    }
    buffer_[used_++] = static_cast<std::uint8_t>(v);
  }
  void raw(ByteView bytes) {
    if (bytes.empty()) return;  // (its data() may be null, which memcpy must not get)
    if (bytes.size() > sizeof buffer_ - used_) {
      flush();
      out_.insert(out_.end(), bytes.begin(), bytes.end());
      return;
    }
    std::memcpy(buffer_ + used_, bytes.data(), bytes.size());
    used_ += bytes.size();
  }
  void bytes(ByteView bytes) {
    varint(bytes.size());
    raw(bytes);
  }
  void flush() {
    out_.insert(out_.end(), buffer_, buffer_ + used_);
    used_ = 0;
  }

 private:
  Bytes& out_;
  std::uint8_t buffer_[512];
  std::size_t used_ = 0;
};

// The `kind` of an event written as a repeat of the one before it (format
// 11; kinds start at 1).
constexpr std::uint64_t kRepeat = 0;
// The optional parts a repeat leaves out: an event with any of them is
// written whole.
constexpr std::uint64_t kNotRepeated = has_path | has_path2 | has_digest | has_preview | has_emit | has_info;

// The memory write a repeat carries: at most one, of bytes held in the
// event, short enough for the context to keep.
bool small_write(const Event& e) {
  if (e.mem.empty()) return true;
  const MemWrite& m = e.mem.front();
  return e.mem.size() == 1 && !m.file && !m.blob && m.size == m.data.size() && m.size <= ChunkContext{}.data.size();
}

// What a repeat after `e` takes from it. Both sides call this after each
// event, so that the decoder's context is the encoder's.
void remember(const Event& e, std::uint64_t fields, ChunkContext& context) {
  context.repeatable = !(fields & kNotRepeated) && small_write(e);
  if (!context.repeatable) return;
  context.kind = e.kind;
  context.fields = fields;
  context.tid = e.tid;
  context.nr = e.nr;
  context.ret = e.ret.value_or(0);
  context.data_size = static_cast<std::uint8_t>(e.mem.empty() ? 0 : e.mem.front().size);
  if (context.data_size) std::memcpy(context.data.data(), e.mem.front().data.data(), context.data_size);
}

// Whether `e` is the previous event again but for its result and its
// memory write's bytes: what a repeat leaves out `e` has none of, and what
// it keeps is the previous event's. (Asked before `e`'s fields are put
// together: most events of a loop are repeats.)
bool repeats(const Event& e, const ChunkContext& context) {
  if (!context.repeatable || e.kind != context.kind || e.tid != context.tid || e.nr != context.nr ||
      e.args != context.args)
    return false;
  std::uint64_t kept = context.fields;
  if (e.path || e.path2 || e.digest || !e.preview.empty() || e.emit || !e.info.empty() ||
      e.ret.has_value() != ((kept & has_ret) != 0) || e.buffered != ((kept & is_buffered) != 0) ||
      e.mem.empty() != !(kept & has_mem) || !small_write(e))
    return false;
  return e.mem.empty() || (e.mem.front().addr == context.addr && e.mem.front().size == context.data_size);
}

// A small write's bytes against the previous one's: 8-byte words as signed
// differences (a clock read's seconds and nanoseconds take a byte each),
// other sizes as they are.
// Each side keeps the bytes as the previous ones for the next repeat.
void encode_data(ByteView data, ChunkContext& context, Encoder& to) {
  std::uint8_t* kept = context.data.data();
  if (data.size() % 8) {
    to.raw(data);
    std::memcpy(kept, data.data(), data.size());
    return;
  }
  for (std::size_t at = 0; at < data.size(); at += 8) {
    std::uint64_t now, before;
    std::memcpy(&now, data.data() + at, 8);
    std::memcpy(&before, kept + at, 8);
    to.varint(zigzag(wrapping_difference(static_cast<std::int64_t>(now), static_cast<std::int64_t>(before))));
    std::memcpy(kept + at, &now, 8);
  }
}

void decode_data(std::span<std::uint8_t> data, ChunkContext& context, Input& in) {
  std::uint8_t* kept = context.data.data();
  if (data.size() % 8) {
    ByteView raw = in.take(data.size());
    std::copy(raw.begin(), raw.end(), data.begin());
    std::memcpy(kept, raw.data(), raw.size());
    return;
  }
  for (std::size_t at = 0; at < data.size(); at += 8) {
    std::uint64_t before;
    std::memcpy(&before, kept + at, 8);
    auto now = static_cast<std::uint64_t>(wrapping_sum(static_cast<std::int64_t>(before), unzigzag(in.varint())));
    std::memcpy(data.data() + at, &now, 8);
    std::memcpy(kept + at, &now, 8);
  }
}

// Which arguments differ from the previous event's, a bit each.
std::uint64_t args_changed(const Event& e, const ChunkContext& context) {
  std::uint64_t mask = 0;
  for (std::size_t i = 0; i < e.args.size(); ++i)
    if (e.args[i] != context.args[i]) mask |= 1u << i;
  return mask;
}

}  // namespace

void encode_event(const Event& e, ChunkContext& context, Bytes& out) {
  Encoder to(out);
  if (repeats(e, context)) {
    // (All the context keeps but the result and the bytes stays as it is.)
    to.varint(kRepeat);
    if (e.ret) {
      to.varint(zigzag(wrapping_difference(*e.ret, context.ret)));
      context.ret = *e.ret;
    }
    if (!e.mem.empty()) encode_data(e.mem.front().data, context, to);
    return;
  }
  bool any_arg = false;
  for (auto a : e.args) any_arg = any_arg || a != 0;
  auto bit = [](bool set, std::uint64_t field) { return set ? field : 0; };
  std::uint64_t fields = bit(e.ret.has_value(), has_ret) | bit(e.path.has_value(), has_path) |
                         bit(e.path2.has_value(), has_path2) | bit(e.digest.has_value(), has_digest) |
                         bit(!e.preview.empty(), has_preview) | bit(e.emit != 0, has_emit) |
                         bit(!e.info.empty(), has_info) | bit(!e.mem.empty(), has_mem | addr_deltas) |
                         bit(any_arg, changed_args) | bit(e.buffered, is_buffered);
  to.varint(static_cast<std::uint64_t>(e.kind));
  to.varint(fields);
  to.varint(static_cast<std::uint64_t>(e.tid));
  to.varint(zigzag(e.nr));
  if (any_arg) {
    std::uint64_t changed = args_changed(e, context);
    to.varint(changed);
    for (std::size_t i = 0; i < e.args.size(); ++i)
      if (changed & (1u << i)) to.varint(e.args[i]);
  }
  context.args = e.args;
  if (e.ret) to.varint(zigzag(*e.ret));
  if (e.path) to.bytes(as_bytes(*e.path));
  if (e.path2) to.bytes(as_bytes(*e.path2));
  if (e.digest) {
    std::uint8_t raw[8];
    std::memcpy(raw, &*e.digest, 8);
    to.raw(ByteView(raw, 8));
  }
  if (!e.preview.empty()) to.bytes(e.preview);
  if (e.emit) to.varint(static_cast<std::uint64_t>(e.emit));
  if (!e.info.empty()) to.bytes(e.info);
  remember(e, fields, context);
  if (e.mem.empty()) return;
  to.varint(e.mem.size());
  for (const auto& m : e.mem) {
    to.varint(zigzag(static_cast<std::int64_t>(m.addr - context.addr)));
    context.addr = m.addr;
    to.varint(m.size);
    if (m.file) {
      to.varint(source_file);
      to.varint(static_cast<std::uint64_t>(*m.file));
      to.varint(m.file_offset);
    } else if (m.blob) {
      to.varint(source_blob);
      to.varint(static_cast<std::uint64_t>(*m.blob));
    } else {
      to.varint(source_data);
      to.bytes(m.data);
    }
  }
}

namespace {

// An event written as a repeat of the one before it (`context`).
void decode_repeat(Input& in, ChunkContext& context, Event& e) {
  if (!context.repeatable) in.corrupt();
  std::uint64_t fields = context.fields;
  e.kind = context.kind;
  e.tid = context.tid;
  e.nr = context.nr;
  e.args = context.args;
  if (fields & has_ret) context.ret = wrapping_sum(context.ret, unzigzag(in.varint()));
  e.ret = fields & has_ret ? std::optional<std::int64_t>(context.ret) : std::nullopt;
  e.path.reset();
  e.path2.reset();
  e.digest.reset();
  e.preview.clear();
  e.emit = 0;
  e.info.clear();
  e.buffered = (fields & is_buffered) != 0;
  e.mem.resize(fields & has_mem ? 1 : 0);
  if (!e.mem.empty()) {
    MemWrite& m = e.mem.front();
    m.blob.reset();
    m.file.reset();
    m.file_offset = 0;
    m.addr = context.addr;
    m.size = context.data_size;
    m.data.resize(context.data_size);
    decode_data(m.data, context, in);
  }
}

}  // namespace

void decode_event(ByteView& bytes, ChunkContext& context, Event& e, const std::string& trace) {
  Input in(bytes, trace);
  std::uint64_t kind = in.varint();
  if (kind == kRepeat) return decode_repeat(in, context, e);
  // Checked before the cast: a kind past int's range would wrap, to 0 (a
  // repeat) among others.
  if (kind > static_cast<std::uint64_t>(kLastKind))
    fail("trace {} is corrupt: an event has kind {}, which no ttdb writes", trace, kind);
  e.kind = static_cast<EventKind>(kind);
  std::uint64_t fields = in.varint();
  e.tid = static_cast<int>(in.varint());
  e.nr = unzigzag(in.varint());
  e.args = {};
  if (fields & has_args) {  // (before format 10)
    for (auto& a : e.args) a = in.varint();
  } else if (fields & changed_args) {
    std::uint64_t changed = in.varint();
    if (changed >> e.args.size()) in.corrupt();
    for (std::size_t i = 0; i < e.args.size(); ++i) e.args[i] = changed & (1u << i) ? in.varint() : context.args[i];
  }
  context.args = e.args;
  e.ret = fields & has_ret ? std::optional<std::int64_t>(unzigzag(in.varint())) : std::nullopt;
  e.path = fields & has_path ? std::optional<std::string>(in.text()) : std::nullopt;
  e.path2 = fields & has_path2 ? std::optional<std::string>(in.text()) : std::nullopt;
  e.digest = fields & has_digest ? std::optional<std::uint64_t>(in.fixed64()) : std::nullopt;
  e.preview.clear();
  if (fields & has_preview) {
    ByteView p = in.bytes();
    e.preview.assign(p.begin(), p.end());
  }
  e.emit = fields & has_emit ? static_cast<int>(in.varint()) : 0;
  e.info.clear();
  if (fields & has_info) {
    ByteView i = in.bytes();
    e.info.assign(i.begin(), i.end());
  }
  e.buffered = (fields & is_buffered) != 0;
  if (!(fields & has_mem)) {
    e.mem.clear();
    remember(e, fields, context);
    return;
  }
  std::uint64_t count = in.varint();
  if (count > in.left()) in.corrupt();
  // Resized, not cleared: a recycled event's writes keep their buffers.
  e.mem.resize(count);
  for (auto& m : e.mem) {
    // `e` may be a recycled event: every field is set anew.
    m.data.clear();
    m.blob.reset();
    m.file.reset();
    m.file_offset = 0;
    m.addr = fields & addr_deltas ? context.addr + static_cast<std::uint64_t>(unzigzag(in.varint())) : in.varint();
    context.addr = m.addr;
    m.size = in.varint();
    switch (in.varint()) {
      case source_file:
        m.file = static_cast<std::int64_t>(in.varint());
        m.file_offset = in.varint();
        break;
      case source_blob: m.blob = static_cast<std::int64_t>(in.varint()); break;
      case source_data: {
        ByteView d = in.bytes();
        m.data.assign(d.begin(), d.end());
        break;
      }
      default: in.corrupt();
    }
  }
  remember(e, fields, context);
}

}  // namespace ttdb::trace
