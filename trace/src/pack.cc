#include "ttdb/trace/pack.h"

#include "blobs.h"
#include "sqlite.h"
#include "ttdb/base/error.h"
#include "ttdb/base/unique_fd.h"
#include "ttdb/trace/reader.h"

namespace ttdb::trace {

std::size_t insert_blob(Stmt& insert, ByteView data, const ContentHash& hash, int level) {
  Bytes packed = compress(data, level);
  bool worth_it = packed.size() < data.size();
  insert.bind_blob(1, hash)
      .bind(2, static_cast<std::int64_t>(data.size()))
      .bind(3, worth_it ? codec_zstd : codec_raw)
      .bind_blob(4, worth_it ? ByteView(packed) : data)
      .run();
  return worth_it ? packed.size() : data.size();
}

std::optional<Bytes> content_as_recorded(const FileRecord& file) {
  auto content = read_whole_file(file.path);
  if (!content || content_hash(*content) != file.hash) return std::nullopt;
  return content;
}

PackOutcome pack(const std::string& path) {
  std::vector<FileRecord> unpacked;
  {
    TraceReader reader(path);  // says what is wrong with a file that is no trace
    for (auto& file : reader.files())
      if (!file.blob) unpacked.push_back(std::move(file));
  }
  PackOutcome outcome;
  if (unpacked.empty()) return outcome;
  Db db(path, Db::Mode::create);
  db.exec("BEGIN IMMEDIATE");
  Stmt known(db, "SELECT id FROM blobs WHERE hash = ?");
  Stmt insert(db, "INSERT INTO blobs(hash, size, codec, data) VALUES(?,?,?,?)");
  Stmt attach(db, "UPDATE files SET blob = ? WHERE id = ?");
  for (auto& file : unpacked) {
    auto content = content_as_recorded(file);
    if (!content) {
      outcome.missing.push_back(std::move(file));
      continue;
    }
    known.bind_blob(1, file.hash);
    std::optional<std::int64_t> blob;
    if (known.step()) blob = known.int64(0);
    known.reset();
    if (!blob) {
      outcome.stored += insert_blob(insert, *content, file.hash, kPackedBlobCompression);
      blob = db.last_insert_id();
    }
    attach.bind(1, *blob).bind(2, file.id).run();
    ++outcome.added;
    outcome.bytes += content->size();
  }
  db.exec("COMMIT");
  // One self-contained file again, as the recorder leaves it.
  db.exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;");
  return outcome;
}

}  // namespace ttdb::trace
