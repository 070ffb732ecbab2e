// Reads a trace, checking first that it is one ttdb can read.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ttdb/trace/event.h"

namespace ttdb::trace {

class Db;
class Stmt;
struct ChunkContext;

class TraceReader {
 public:
  // Throws ttdb::Error with a clear sentence when `path` is missing, empty,
  // not a trace, truncated, or of a newer format.
  explicit TraceReader(const std::string& path);
  ~TraceReader();
  TraceReader(const TraceReader&) = delete;
  TraceReader& operator=(const TraceReader&) = delete;

  const std::string& path() const { return path_; }
  std::optional<std::string> meta(const std::string& key) const;
  std::optional<std::int64_t> meta_int(const std::string& key) const;
  std::vector<std::string> argv() const;
  std::vector<std::string> env() const;
  std::vector<FileRecord> files() const;
  std::optional<FileRecord> file(std::int64_t id) const;
  // Every file mapping the recording made, in event order.
  std::vector<FileMapping> file_mappings() const;

  std::int64_t event_count() const;
  bool finished() const;
  std::optional<Event> event(std::int64_t id) const;
  // The bytes of a stored blob, decompressed.
  Bytes blob(std::int64_t id) const;
  // The bytes a memory write carries, when they are in the trace (not a file).
  Bytes mem_bytes(const MemWrite& write) const;

  // Streams events in order from `first`.
  class Cursor {
   public:
    ~Cursor();
    Cursor(Cursor&&) noexcept;
    // Fills `event` with the next one; false at the end.
    bool next(Event& event);

   private:
    friend class TraceReader;
    Cursor(const TraceReader& reader, std::int64_t first);
    const TraceReader* reader_;
    std::unique_ptr<Stmt> chunks_;
    Bytes chunk_;      // the current chunk, decompressed
    ByteView rest_;    // its events not read yet, from event chunk_id_
    std::unique_ptr<ChunkContext> context_;  // what the next one's bytes may refer to
    std::int64_t chunk_id_ = 0;
    std::int64_t next_id_ = 1;
    bool done_ = false;  // sqlite restarts a finished statement on the next step
  };
  Cursor cursor(std::int64_t first = 1) const;

 private:
  Bytes chunk_bytes(const Stmt& row) const;

  std::string path_;
  std::unique_ptr<Db> db_;
  // The chunk event() read last: debuggers ask for events near each other.
  struct CachedChunk {
    std::int64_t first = 0;
    std::vector<Event> events;
  };
  mutable CachedChunk cached_;
  // The blobs blob() read last, newest first, up to kKeptBlobs of at most
  // kKeptBlobBytes each.
  Bytes read_blob(std::int64_t id) const;
  static constexpr std::size_t kKeptBlobs = 8, kKeptBlobBytes = 256 << 10;
  mutable std::deque<std::pair<std::int64_t, Bytes>> recent_blobs_;
};

}  // namespace ttdb::trace
