// Writes a trace: events packed into compressed chunks, in batched
// transactions (WAL mode), so that a recorder killed mid-run leaves a trace
// readable up to its last batch. Not thread-safe: one thread writes.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ttdb/base/error.h"
#include "ttdb/trace/event.h"

namespace ttdb::trace {

// The disk filled while the trace was written: what was committed before
// stays readable (the recorder says how much).
class DiskFull : public Error {
 public:
  using Error::Error;
};

class Db;
class Stmt;
struct ChunkContext;

class TraceWriter {
 public:
  // Creates `path` (which must not exist yet, unless `claimed`: created
  // empty by claim()). Throws ttdb::Error on failure.
  explicit TraceWriter(const std::string& path, bool claimed = false);
  // Creates `path` empty, failing if it exists (atomically: of two
  // recorders claiming a name, one gets it), so that no other recorder
  // writes there. Throws the Error for a path it cannot create.
  static void claim(const std::string& path);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Makes this new trace the first `last_event` events of trace `source`,
  // with its programs, files and meta, for events to follow on (go-live
  // --record). Call it first. Throws ttdb::Error naming what failed.
  void continue_from(const std::string& source, std::int64_t last_event);

  void set_meta(std::string_view key, std::string_view value);
  void set_meta(std::string_view key, std::int64_t value);
  void set_argv(const std::vector<std::string>& argv);
  void set_env(const std::vector<std::string>& env);
  void set_syscall_names(const std::vector<std::pair<int, std::string>>& names);

  // Stores bytes once per content hash, compressed; returns the blob id.
  std::int64_t store_blob(ByteView data);
  // Returns the new file's id (record.id when it is set); `content` is
  // stored when given.
  std::int64_t add_file(FileRecord record, const Bytes* content);

  // Appends an event and its memory writes; returns its number.
  std::int64_t add_event(const Event& event);
  std::int64_t last_event_id() const { return next_event_id_ - 1; }

  // Commits the current batch when it is big enough; true if it did. How
  // old a batch may get is the caller's to say (it knows when the events
  // happened), with commit().
  bool commit_if_due();
  // Commits now.
  void commit();
  // Commits, folds the write-ahead log into the file and leaves it standalone.
  void finish();
  // After a write failed (a full disk): drops the batch in progress, so that
  // the trace keeps exactly its committed batches, and writes nothing more.
  void abandon() noexcept;

  const std::string& path() const { return path_; }

 private:
  void begin();
  void flush_chunk();

  std::string path_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<Stmt> insert_chunk_, insert_mapping_, insert_blob_, insert_file_, set_meta_;
  std::unordered_map<std::string, std::int64_t> blob_ids_;  // hash bytes -> blob id
  std::int64_t next_event_id_ = 1;
  std::int64_t next_file_id_ = 1;
  // The chunk being filled: its events, encoded, from event chunk_first_.
  Bytes chunk_;
  std::unique_ptr<ChunkContext> chunk_context_;  // what its next event's bytes may refer to
  std::size_t chunk_events_ = 0;
  std::int64_t chunk_first_ = 0;
  std::size_t batch_bytes_ = 0;
  bool in_transaction_ = false;
};

}  // namespace ttdb::trace
