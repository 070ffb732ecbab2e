// The bytes of the files a recording ran or mapped, for replay: from the
// trace when it holds a copy, else from disk after checking that the file has
// not changed since it was recorded.
#pragma once

#include <cstdint>
#include <map>

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

 private:
  const trace::FileRecord& record(std::int64_t id);

  const trace::TraceReader& reader_;
  std::map<std::int64_t, trace::FileRecord> records_;
  std::map<std::int64_t, Bytes> contents_;
  std::map<std::int64_t, bool> checked_;
};

}  // namespace ttdb
