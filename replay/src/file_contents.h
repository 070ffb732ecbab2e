// The bytes of the files a recording ran or mapped, for replay: from the
// trace when it holds a copy, else from disk after checking that the file has
// not changed since it was recorded.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "ttdb/base/unique_fd.h"
#include "ttdb/trace/reader.h"

namespace ttdb {

class FileContents {
 public:
  explicit FileContents(const trace::TraceReader& reader) : reader_(reader) {}

  // The recorded content of file `id`. Throws ttdb::Error naming the file
  // when it is not in the trace and has changed or gone.
  const Bytes& content(std::int64_t id);
  // Checks that the file on disk is still the recorded one (the kernel loads
  // programs and their interpreter from disk, whatever the trace holds).
  void check_on_disk(std::int64_t id);
  // Whether the file on disk is the recorded one, and whether the trace
  // keeps a copy of it.
  bool is_on_disk(std::int64_t id);
  bool has_copy(std::int64_t id) { return record(id).blob.has_value(); }
  const std::string& path(std::int64_t id) { return record(id).path; }
  // A path by which a replayed program opens file `id` as it was recorded:
  // the file itself when it is on disk as recorded, else a copy of it in a
  // memfd of replay's (/proc/<ttdb>/fd/N). Throws as content() does.
  std::string mappable_path(std::int64_t id);
  const ContentHash& hash(std::int64_t id) { return record(id).hash; }

 private:
  const trace::FileRecord& record(std::int64_t id);

  const trace::TraceReader& reader_;
  std::map<std::int64_t, trace::FileRecord> records_;
  std::map<std::int64_t, Bytes> contents_;
  std::map<std::int64_t, bool> checked_;  // on disk as recorded, or not
  std::map<std::int64_t, UniqueFd> copies_;
};

}  // namespace ttdb
