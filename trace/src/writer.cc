#include "ttdb/trace/writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "blobs.h"
#include "codec.h"
#include "schema.h"
#include "sqlite.h"
#include "ttdb/trace/format.h"
#include "ttdb/trace/reader.h"
#include "ttdb/base/error.h"
#include "ttdb/base/log.h"

namespace ttdb::trace {
namespace {

// Bytes up to this size stay in their chunk, compressed with it; larger ones
// go to blobs, once per content (file contents read again, mapped files),
// compressed harder. Compressing many small blobs one by one cost more than
// the recording.
constexpr std::size_t kInlineLimit = 16 << 10;
// A chunk holds at most this many events or raw bytes.
constexpr std::size_t kChunkEvents = 4096;
constexpr std::size_t kChunkBytes = 1 << 20;
// A batch is committed after this many bytes (or by the caller's clock):
// often enough that little is left to write when the program ends.
constexpr std::size_t kBatchBytes = 1 << 20;
// Chunks are written while the program runs: the fastest level.
constexpr int kChunkCompression = -1;

}  // namespace

void TraceWriter::claim(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::close(fd);
    return;
  }
  int error = errno;
  if (error == EEXIST) fail("cannot create trace {}: the file already exists", path);
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    fail("cannot create trace {}: the directory {} does not exist", path, dir);
  if (error == EACCES || error == EROFS) fail("cannot create trace {}: the directory {} is not writable", path, dir);
  fail("cannot create trace {}: {}", path, errno_text(error));
}

TraceWriter::TraceWriter(const std::string& path, bool claimed)
    : path_(path), chunk_context_(std::make_unique<ChunkContext>()) {
  if (!claimed) claim(path);
  db_ = std::make_unique<Db>(path, Db::Mode::create);
  // No fsync: a recorder that dies leaves its writes with the kernel, which
  // is what a trace must survive; a machine that crashes takes the run too.
  // Told first: switching to WAL syncs the file four times otherwise (4 ms
  // of every recording). (Pages stay at sqlite's 4 KiB: a trace's dozen
  // tables and indexes take a page each at least.)
  db_->exec("PRAGMA synchronous=OFF; PRAGMA journal_mode=WAL;");
  db_->exec("BEGIN");
  create_schema(*db_);
  db_->exec("COMMIT");
  insert_chunk_ = std::make_unique<Stmt>(*db_, "INSERT INTO chunks(first, last, size, codec, data) VALUES(?,?,?,?,?)");
  insert_mapping_ = std::make_unique<Stmt>(
      *db_, "INSERT INTO mappings(event, seq, addr, size, file, file_offset) VALUES(?,?,?,?,?,?)");
  insert_blob_ =
      std::make_unique<Stmt>(*db_, "INSERT INTO blobs(hash, size, codec, data) VALUES(?,?,?,?)");
  insert_file_ = std::make_unique<Stmt>(
      *db_, "INSERT INTO files(id, path, size, mtime_ns, hash, blob, role) VALUES(?,?,?,?,?,?,?)");
  set_meta_ = std::make_unique<Stmt>(*db_, "INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)");
  begin();
}

TraceWriter::~TraceWriter() {
  // Keep what was recorded even when the recorder stops by an exception
  // (not the writer's: abandon() has ended its transaction then).
  if (in_transaction_) {
    try {
      flush_chunk();
      db_->exec("COMMIT");
    } catch (const Error&) {
    }
  }
}

void TraceWriter::begin() {
  db_->exec("BEGIN");
  in_transaction_ = true;
  batch_bytes_ = 0;
}

void TraceWriter::commit() {
  flush_chunk();
  if (in_transaction_) {
    in_transaction_ = false;
    db_->exec("COMMIT");
    TTDB_LOG(trace, "committed up to event {}", last_event_id());
  }
  begin();
}

bool TraceWriter::commit_if_due() {
  if (batch_bytes_ + chunk_.size() < kBatchBytes) return false;
  commit();
  return true;
}

void TraceWriter::finish() {
  flush_chunk();
  if (in_transaction_) {
    in_transaction_ = false;
    db_->exec("COMMIT");
  }
  // A finished trace is one self-contained file that any reader can open.
  // (Leaving WAL checkpoints everything and deletes the log: a checkpoint
  // before it, as `ttdb pack` does, only wrote the log's end again.)
  db_->exec("PRAGMA journal_mode=DELETE;");
}

void TraceWriter::abandon() noexcept {
  chunk_.clear();
  chunk_events_ = 0;
  if (!in_transaction_) return;
  in_transaction_ = false;
  // sqlite may have rolled the transaction back already; anything written
  // outside it now would be committed on its own, without what it refers to.
  if (sqlite3_get_autocommit(db_->handle())) return;
  try {
    db_->exec("ROLLBACK");
  } catch (const Error&) {
  }
}

void TraceWriter::continue_from(const std::string& source, std::int64_t last_event) {
  TraceReader reader(source);
  // Format 8 encodes its events as this one does (9 only adds a kind).
  auto version = reader.meta_int(meta::format_version).value_or(0);
  if (version < 8) fail("cannot go on from trace {}: its format {} is older than 8; record the program again", source, version);
  if (last_event < 1 || last_event > reader.event_count())
    fail("cannot go on from event {} of trace {}, which has events 1 to {}", last_event, source, reader.event_count());
  if (in_transaction_) {
    in_transaction_ = false;
    db_->exec("COMMIT");
  }
  Stmt(*db_, "ATTACH DATABASE ? AS source").bind(1, source).run();
  db_->exec("BEGIN");
  // The chunks wholly before the cut are copied as they are; the events of
  // the one it cuts are written again, up to the cut.
  std::int64_t copied_below = 0;
  {
    Stmt cut(*db_, "SELECT coalesce(min(first), ?) FROM source.chunks WHERE last > ?");
    cut.bind(1, last_event + 1).bind(2, last_event);
    cut.step();
    copied_below = cut.int64(0);
  }
  db_->exec(fmt::format(R"sql(
    DELETE FROM meta;
    INSERT INTO meta SELECT * FROM source.meta WHERE key NOT IN ('{}', '{}', '{}', '{}', '{}');
    INSERT OR REPLACE INTO meta VALUES('{}', {});
    INSERT OR REPLACE INTO meta VALUES('{}', 0);
    INSERT INTO argv SELECT * FROM source.argv;
    INSERT INTO env SELECT * FROM source.env;
    INSERT INTO syscall_names SELECT * FROM source.syscall_names;
    INSERT INTO blobs SELECT * FROM source.blobs;
    INSERT INTO files SELECT * FROM source.files;
    INSERT INTO chunks SELECT * FROM source.chunks WHERE last < {};
    INSERT INTO mappings SELECT * FROM source.mappings WHERE event < {};
    COMMIT;
    DETACH DATABASE source;
  )sql", meta::format_version, meta::finished, meta::exit_kind, meta::exit_code, meta::end_reason,
                        meta::format_version, kFormatVersion, meta::finished, copied_below, copied_below));
  {
    Stmt blobs(*db_, "SELECT id, hash FROM blobs");
    while (blobs.step()) {
      Bytes hash = blobs.blob(1);
      blob_ids_.emplace(std::string(hash.begin(), hash.end()), blobs.int64(0));
    }
    Stmt files(*db_, "SELECT coalesce(max(id), 0) FROM files");
    files.step();
    next_file_id_ = files.int64(0) + 1;
  }
  next_event_id_ = copied_below;
  begin();
  set_meta(meta::live_from, source);
  set_meta(meta::live_after_event, last_event);
  for (std::int64_t id = copied_below; id <= last_event; ++id) add_event(*reader.event(id));
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
  batch_bytes_ += insert_blob(*insert_blob_, data, hash, kRecordedBlobCompression);
  std::int64_t id = db_->last_insert_id();
  blob_ids_.emplace(std::move(key), id);
  return id;
}

std::int64_t TraceWriter::add_file(FileRecord record, const Bytes* content) {
  if (content) record.blob = store_blob(*content);
  if (record.id == 0) record.id = next_file_id_;
  next_file_id_ = std::max(next_file_id_, record.id + 1);
  insert_file_->bind(1, record.id)
      .bind(2, record.path)
      .bind(3, record.size)
      .bind(4, record.mtime_ns)
      .bind_blob(5, record.hash)
      .bind_optional(6, record.blob)
      .bind(7, record.role)
      .run();
  return record.id;
}

std::int64_t TraceWriter::add_event(const Event& event) {
  std::int64_t id = next_event_id_++;
  bool large = false;
  int seq = 0;
  for (const auto& write : event.mem) {
    if (write.file) {
      insert_mapping_->bind(1, id).bind(2, seq).bind(3, write.addr).bind(4, write.size);
      insert_mapping_->bind(5, *write.file).bind(6, write.file_offset).run();
    }
    large = large || (!write.file && !write.blob && write.data.size() > kInlineLimit);
    ++seq;
  }
  if (chunk_events_ == 0) {
    chunk_first_ = id;
    chunk_.reserve(kChunkBytes + (64 << 10));
    *chunk_context_ = ChunkContext{};
  }
  if (large) {
    Event stored = event;
    for (auto& write : stored.mem)
      if (!write.file && !write.blob && write.data.size() > kInlineLimit) {
        write.blob = store_blob(write.data);
        write.data.clear();
      }
    encode_event(stored, *chunk_context_, chunk_);
  } else {
    encode_event(event, *chunk_context_, chunk_);
  }
  if (++chunk_events_ >= kChunkEvents || chunk_.size() >= kChunkBytes) flush_chunk();
  return id;
}

void TraceWriter::flush_chunk() {
  if (chunk_events_ == 0) return;
  Bytes packed = compress(chunk_, kChunkCompression);
  bool worth_it = packed.size() < chunk_.size();
  insert_chunk_->bind(1, chunk_first_)
      .bind(2, chunk_first_ + static_cast<std::int64_t>(chunk_events_) - 1)
      .bind(3, static_cast<std::int64_t>(chunk_.size()))
      .bind(4, worth_it ? codec_zstd : codec_raw)
      .bind_blob(5, worth_it ? ByteView(packed) : ByteView(chunk_))
      .run();
  batch_bytes_ += worth_it ? packed.size() : chunk_.size();
  chunk_.clear();
  chunk_events_ = 0;
}

}  // namespace ttdb::trace
