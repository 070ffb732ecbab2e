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
  ~FileContents();
  FileContents(const FileContents&) = delete;
  FileContents& operator=(const FileContents&) = delete;

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
  // the file itself when it is on disk as recorded, else copy_path(id).
  // Throws as content() does.
  std::string mappable_path(std::int64_t id);
  // A copy of file `id`'s recorded content, under its own name in a
  // directory of replay's that goes when replay does: /proc/PID/maps names
  // it, so a debugger finds its symbols there. Throws as content() does.
  std::string copy_path(std::int64_t id);
  // A descriptor of ttdb's (close-on-exec) on copy_path(id).
  int copy_descriptor(std::int64_t id);
  const ContentHash& hash(std::int64_t id) { return record(id).hash; }

 private:
  const trace::FileRecord& record(std::int64_t id);

  const trace::TraceReader& reader_;
  std::map<std::int64_t, trace::FileRecord> records_;
  std::map<std::int64_t, Bytes> contents_;
  std::map<std::int64_t, bool> checked_;  // on disk as recorded, or not
  struct Copy {
    std::string path;
    UniqueFd fd;
  };
  std::map<std::int64_t, Copy> copies_;
  std::string directory_;  // where the copies are, once there is one
};

}  // namespace ttdb
