#include "ttdb/trace/writer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "schema.h"
#include "sqlite.h"
#include "ttdb/base/error.h"
#include "ttdb/base/log.h"

namespace ttdb::trace {
namespace {

// Bytes up to this size are kept in the mem row itself; larger ones go to blobs.
constexpr std::size_t kInlineLimit = 256;
// A batch is committed after this many events, bytes, or this much time.
constexpr std::size_t kBatchEvents = 8192;
constexpr std::size_t kBatchBytes = 8 << 20;
constexpr auto kBatchAge = std::chrono::milliseconds(250);
constexpr int kCompressionLevel = 3;

enum Codec { codec_raw = 0, codec_zstd = 1 };

}  // namespace

TraceWriter::TraceWriter(const std::string& path) : path_(path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) fail("cannot create trace {}: the file already exists", path);
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    fail("cannot create trace {}: the directory {} does not exist", path, dir);
  if (::access(dir.c_str(), W_OK) != 0)
    fail("cannot create trace {}: the directory {} is not writable", path, dir);
  db_ = std::make_unique<Db>(path, Db::Mode::create);
  db_->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA page_size=16384;");
  db_->exec("BEGIN");
  create_schema(*db_);
  db_->exec("COMMIT");
  insert_event_ = std::make_unique<Stmt>(
      *db_,
      "INSERT INTO events(id, kind, tid, nr, a0, a1, a2, a3, a4, a5, ret, path, path2, digest, "
      "preview, emit, info) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  insert_mem_ = std::make_unique<Stmt>(
      *db_,
      "INSERT INTO mem(event, seq, addr, size, data, blob, file, file_offset) "
      "VALUES(?,?,?,?,?,?,?,?)");
  insert_blob_ =
      std::make_unique<Stmt>(*db_, "INSERT INTO blobs(hash, size, codec, data) VALUES(?,?,?,?)");
  find_blob_ = std::make_unique<Stmt>(*db_, "SELECT id FROM blobs WHERE hash = ?");
  insert_file_ = std::make_unique<Stmt>(
      *db_, "INSERT INTO files(path, size, mtime_ns, hash, blob, role) VALUES(?,?,?,?,?,?)");
  set_meta_ = std::make_unique<Stmt>(*db_, "INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)");
  begin();
}

TraceWriter::~TraceWriter() {
  // Keep what was recorded even when the recorder stops by an exception.
  if (in_transaction_) {
    try {
      db_->exec("COMMIT");
    } catch (const Error&) {
    }
  }
}

void TraceWriter::begin() {
  db_->exec("BEGIN");
  in_transaction_ = true;
  batch_events_ = 0;
  batch_bytes_ = 0;
  batch_start_ = std::chrono::steady_clock::now();
}

void TraceWriter::commit() {
  if (in_transaction_) {
    in_transaction_ = false;
    db_->exec("COMMIT");
    TTDB_LOG(trace, "committed up to event {}", last_event_id());
  }
  begin();
}

void TraceWriter::commit_if_due() {
  if (batch_events_ >= kBatchEvents || batch_bytes_ >= kBatchBytes ||
      std::chrono::steady_clock::now() - batch_start_ >= kBatchAge)
    commit();
}

void TraceWriter::finish() {
  if (in_transaction_) {
    in_transaction_ = false;
    db_->exec("COMMIT");
  }
  // A finished trace is one self-contained file that any reader can open.
  db_->exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;");
}

void TraceWriter::set_meta(std::string_view key, std::string_view value) {
  set_meta_->bind(1, key).bind(2, value).run();
}

void TraceWriter::set_meta(std::string_view key, std::int64_t value) {
  set_meta_->bind(1, key).bind(2, value).run();
}

void TraceWriter::set_argv(const std::vector<std::string>& argv) {
  Stmt insert(*db_, "INSERT INTO argv(i, arg) VALUES(?,?)");
  for (std::size_t i = 0; i < argv.size(); ++i)
    insert.bind(1, static_cast<std::int64_t>(i)).bind_blob(2, as_bytes(argv[i])).run();
}

void TraceWriter::set_env(const std::vector<std::string>& env) {
  Stmt insert(*db_, "INSERT INTO env(i, var) VALUES(?,?)");
  for (std::size_t i = 0; i < env.size(); ++i)
    insert.bind(1, static_cast<std::int64_t>(i)).bind_blob(2, as_bytes(env[i])).run();
}

void TraceWriter::set_syscall_names(const std::vector<std::pair<int, std::string>>& names) {
  Stmt insert(*db_, "INSERT INTO syscall_names(nr, name) VALUES(?,?)");
  for (const auto& [nr, name] : names) insert.bind(1, nr).bind(2, name).run();
}

std::int64_t TraceWriter::store_blob(ByteView data) {
  ContentHash hash = content_hash(data);
  std::string key(hash.begin(), hash.end());
  if (auto found = blob_ids_.find(key); found != blob_ids_.end()) return found->second;
  Bytes packed = compress(data, kCompressionLevel);
  bool worth_it = packed.size() < data.size();
  insert_blob_->bind_blob(1, hash)
      .bind(2, static_cast<std::int64_t>(data.size()))
      .bind(3, worth_it ? codec_zstd : codec_raw)
      .bind_blob(4, worth_it ? ByteView(packed) : data)
      .run();
  std::int64_t id = db_->last_insert_id();
  blob_ids_.emplace(std::move(key), id);
  batch_bytes_ += worth_it ? packed.size() : data.size();
  return id;
}

std::int64_t TraceWriter::add_file(FileRecord record, const Bytes* content) {
  if (content) record.blob = store_blob(*content);
  insert_file_->bind(1, record.path)
      .bind(2, record.size)
      .bind(3, record.mtime_ns)
      .bind_blob(4, record.hash)
      .bind_optional(5, record.blob)
      .bind(6, record.role)
      .run();
  return db_->last_insert_id();
}

void TraceWriter::insert_mem(std::int64_t event, int seq, MemWrite& write) {
  auto& s = *insert_mem_;
  s.bind(1, event).bind(2, seq).bind(3, write.addr).bind(4, write.size);
  if (write.file) {
    s.bind_null(5).bind_null(6).bind(7, *write.file).bind(8, write.file_offset);
  } else if (write.blob) {
    s.bind_null(5).bind(6, *write.blob).bind_null(7).bind_null(8);
  } else if (write.data.size() <= kInlineLimit) {
    s.bind_blob(5, write.data).bind_null(6).bind_null(7).bind_null(8);
    batch_bytes_ += write.data.size();
  } else {
    s.bind_null(5).bind(6, store_blob(write.data)).bind_null(7).bind_null(8);
  }
  s.run();
}

std::int64_t TraceWriter::add_event(Event event) {
  event.id = next_event_id_++;
  auto& s = *insert_event_;
  s.bind(1, event.id).bind(2, static_cast<int>(event.kind)).bind(3, event.tid).bind(4, event.nr);
  for (int i = 0; i < 6; ++i) s.bind(5 + i, event.args[static_cast<std::size_t>(i)]);
  s.bind_optional(11, event.ret).bind_optional(12, event.path).bind_optional(13, event.path2);
  s.bind_optional(14, event.digest);
  if (event.preview.empty()) s.bind_null(15); else s.bind_blob(15, event.preview);
  if (event.emit) s.bind(16, event.emit); else s.bind_null(16);
  if (event.info.empty()) s.bind_null(17); else s.bind_blob(17, event.info);
  s.run();
  int seq = 0;
  for (auto& write : event.mem) insert_mem(event.id, seq++, write);
  ++batch_events_;
  batch_bytes_ += 64;
  return event.id;
}

}  // namespace ttdb::trace
