#include "ttdb/trace/reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "codec.h"
#include "sqlite.h"
#include "ttdb/base/error.h"
#include "ttdb/trace/format.h"

namespace ttdb::trace {

namespace {

std::uint32_t big_endian(const std::uint8_t* p, int bytes) {
  std::uint32_t value = 0;
  for (int i = 0; i < bytes; ++i) value = value << 8 | p[i];
  return value;
}

// Checks the sqlite file header before sqlite sees the file, so that the
// common accidents get a precise message: not a database, or cut short.
void check_header(const std::string& path, std::uint64_t file_size) {
  std::uint8_t header[100] = {};
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) fail("cannot open trace {}: {}", path, errno_text(errno));
  std::size_t got = std::fread(header, 1, sizeof header, file);
  std::fclose(file);
  if (got < sizeof header || std::memcmp(header, "SQLite format 3", 16) != 0)
    fail("{} is not a ttdb trace (not an sqlite database); give the path of a .ttdb file", path);
  std::uint64_t page_size = big_endian(header + 16, 2);
  if (page_size == 1) page_size = 65536;
  std::uint64_t pages = big_endian(header + 28, 4);
  // The page count is trustworthy when its "valid for" stamp matches the change counter.
  bool count_valid = big_endian(header + 92, 4) == big_endian(header + 24, 4);
  // A recorder that stopped mid-recording (killed, or out of disk while
  // copying its log into the file) leaves the newer pages in the write-ahead
  // log: sqlite reads them from there, and the file may be short of them.
  struct stat wal;
  bool has_wal = ::stat((path + "-wal").c_str(), &wal) == 0 && wal.st_size > 0;
  if (count_valid && !has_wal && pages * page_size > file_size)
    fail("trace {} is truncated: it should hold {} bytes but has {}; record the program again", path,
         pages * page_size, file_size);
}

}  // namespace

TraceReader::TraceReader(const std::string& path) : path_(path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    fail("cannot open trace {}: {}", path, errno_text(errno));
  if (S_ISDIR(st.st_mode)) fail("{} is a directory, not a trace; give the path of a .ttdb file", path);
  if (st.st_size == 0) fail("trace {} is empty; the recording never started writing it", path);
  check_header(path, static_cast<std::uint64_t>(st.st_size));
  db_ = std::make_unique<Db>(path, Db::Mode::read_only);
  Stmt has_meta(*db_, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
  if (!has_meta.step() || has_meta.int64(0) == 0)
    fail("{} is an sqlite database but not a ttdb trace; give the path of a .ttdb file", path);
  auto version = meta_int(meta::format_version);
  if (!version) fail("{} is not a ttdb trace (it has no format version)", path);
  if (*version > kFormatVersion)
    fail("trace {} has format version {}, newer than this ttdb reads ({}); upgrade ttdb", path,
         *version, kFormatVersion);
  if (*version < kOldestReadVersion)
    fail("trace {} has format version {}, which this ttdb no longer reads (it reads {} to {}); record the program "
         "again",
         path, *version, kOldestReadVersion, kFormatVersion);
}

TraceReader::~TraceReader() = default;

std::optional<std::string> TraceReader::meta(const std::string& key) const {
  Stmt s(*db_, "SELECT value FROM meta WHERE key = ?");
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return s.optional_text(0);
}

std::optional<std::int64_t> TraceReader::meta_int(const std::string& key) const {
  Stmt s(*db_, "SELECT value FROM meta WHERE key = ?");
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return s.optional_int64(0);
}

namespace {
std::vector<std::string> read_strings(Db& db, const char* sql) {
  Stmt s(db, sql);
  std::vector<std::string> out;
  while (s.step()) {
    Bytes b = s.blob(0);
    out.emplace_back(b.begin(), b.end());
  }
  return out;
}

FileRecord read_file_row(const Stmt& s) {
  FileRecord f;
  f.id = s.int64(0);
  f.path = s.text(1);
  f.size = static_cast<std::uint64_t>(s.int64(2));
  f.mtime_ns = s.int64(3);
  Bytes hash = s.blob(4);
  std::copy_n(hash.begin(), std::min(hash.size(), f.hash.size()), f.hash.begin());
  f.blob = s.optional_int64(5);
  f.role = s.text(6);
  return f;
}
constexpr const char* kFileColumns = "id, path, size, mtime_ns, hash, blob, role";
}  // namespace

std::vector<std::string> TraceReader::argv() const {
  return read_strings(*db_, "SELECT arg FROM argv ORDER BY i");
}

std::vector<std::string> TraceReader::env() const {
  return read_strings(*db_, "SELECT var FROM env ORDER BY i");
}

std::vector<FileRecord> TraceReader::files() const {
  Stmt s(*db_, fmt::format("SELECT {} FROM files ORDER BY id", kFileColumns));
  std::vector<FileRecord> out;
  while (s.step()) out.push_back(read_file_row(s));
  return out;
}

std::optional<FileRecord> TraceReader::file(std::int64_t id) const {
  Stmt s(*db_, fmt::format("SELECT {} FROM files WHERE id = ?", kFileColumns));
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_file_row(s);
}

std::vector<FileMapping> TraceReader::file_mappings() const {
  Stmt s(*db_,
         "SELECT m.event, m.addr, m.size, m.file_offset, f.path FROM mappings m JOIN files f ON f.id = m.file "
         "ORDER BY m.event, m.seq");
  std::vector<FileMapping> out;
  while (s.step())
    out.push_back(FileMapping{s.int64(0), static_cast<std::uint64_t>(s.int64(1)), static_cast<std::uint64_t>(s.int64(2)),
                              static_cast<std::uint64_t>(s.int64(3)), s.text(4)});
  return out;
}

std::int64_t TraceReader::event_count() const {
  Stmt s(*db_, "SELECT coalesce(max(last), 0) FROM chunks");
  s.step();
  return s.int64(0);
}

bool TraceReader::finished() const { return meta_int(meta::finished).value_or(0) == 1; }

std::optional<Event> TraceReader::event(std::int64_t id) const {
  if (!(cached_.first <= id && id < cached_.first + static_cast<std::int64_t>(cached_.events.size()))) {
    Stmt s(*db_, "SELECT first, last, size, codec, data FROM chunks WHERE first <= ? ORDER BY first DESC LIMIT 1");
    s.bind(1, id);
    if (!s.step() || s.int64(1) < id) return std::nullopt;
    Bytes bytes = chunk_bytes(s);
    cached_.first = s.int64(0);
    cached_.events.clear();
    ByteView in(bytes);
    ChunkContext context;
    while (!in.empty()) {
      Event e;
      decode_event(in, context, e, path_);
      e.id = cached_.first + static_cast<std::int64_t>(cached_.events.size());
      cached_.events.push_back(std::move(e));
    }
    if (cached_.first + static_cast<std::int64_t>(cached_.events.size()) - 1 != s.int64(1))
      fail("trace {} is corrupt: the chunk from event {} does not hold the events it should", path_, cached_.first);
  }
  return cached_.events[static_cast<std::size_t>(id - cached_.first)];
}

// Columns: first, last, size, codec, data.
Bytes TraceReader::chunk_bytes(const Stmt& s) const {
  auto size = static_cast<std::size_t>(s.int64(2));
  Bytes data = s.blob(4);
  if (s.int64(3) == 0) {
    if (data.size() != size) fail("trace {} is corrupt: the chunk from event {} has the wrong size", path_, s.int64(0));
    return data;
  }
  return decompress(data, size);
}

Bytes TraceReader::blob(std::int64_t id) const {
  // The small blobs last asked for are kept: every process of a shell's
  // tree maps the same page of trampolines for libc, one blob.
  for (const auto& [kept, bytes] : recent_blobs_)
    if (kept == id) return bytes;
  Bytes bytes = read_blob(id);
  if (bytes.size() <= kKeptBlobBytes) {
    if (recent_blobs_.size() == kKeptBlobs) recent_blobs_.pop_back();
    recent_blobs_.emplace_front(id, bytes);
  }
  return bytes;
}

Bytes TraceReader::read_blob(std::int64_t id) const {
  Stmt s(*db_, "SELECT size, codec, data FROM blobs WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) fail("trace {} is corrupt: blob {} is missing", path_, id);
  auto size = static_cast<std::size_t>(s.int64(0));
  Bytes data = s.blob(2);
  if (s.int64(1) == 0) {
    if (data.size() != size) fail("trace {} is corrupt: blob {} has the wrong size", path_, id);
    return data;
  }
  return decompress(data, size);
}

Bytes TraceReader::mem_bytes(const MemWrite& write) const {
  return write.blob ? blob(*write.blob) : write.data;
}

TraceReader::Cursor TraceReader::cursor(std::int64_t first) const { return Cursor(*this, first); }

TraceReader::Cursor::Cursor(const TraceReader& reader, std::int64_t first)
    : reader_(&reader), context_(std::make_unique<ChunkContext>()), next_id_(first) {
  chunks_ = std::make_unique<Stmt>(
      *reader.db_, "SELECT first, last, size, codec, data FROM chunks WHERE last >= ? ORDER BY first");
  chunks_->bind(1, first);
}

TraceReader::Cursor::~Cursor() = default;
TraceReader::Cursor::Cursor(Cursor&&) noexcept = default;

bool TraceReader::Cursor::next(Event& event) {
  for (;;) {
    if (!rest_.empty()) {
      decode_event(rest_, *context_, event, reader_->path_);
      event.id = chunk_id_++;
      if (event.id >= next_id_) {
        next_id_ = event.id + 1;
        return true;
      }
      continue;
    }
    if (done_ || !chunks_->step()) {
      done_ = true;
      return false;
    }
    std::int64_t first = chunks_->int64(0);
    if (first > next_id_)
      fail("trace {} is corrupt: events {} to {} are missing", reader_->path_, next_id_, first - 1);
    chunk_ = reader_->chunk_bytes(*chunks_);
    rest_ = ByteView(chunk_);
    *context_ = ChunkContext{};
    chunk_id_ = first;
  }
}

}  // namespace ttdb::trace
