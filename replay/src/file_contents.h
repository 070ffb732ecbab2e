// The bytes of the files a recording ran or mapped, for replay: from the
// trace when it holds a copy, else from disk after checking that the file has
// not changed since it was recorded.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "ttdb/base/unique_fd.h"
#include "ttdb/trace/reader.h"

namespace ttdb {

// Where a dynamically linked program names its ELF interpreter (PT_INTERP).
struct ElfInterpreter {
  std::uint64_t offset = 0;      // of the name, in the file
  std::uint64_t size = 0;        // of the name, with its NUL
  std::uint64_t vaddr = 0;       // where the program maps the name, before relocation
  std::uint64_t phdr_vaddr = 0;  // where it maps its program headers, before relocation
};
std::optional<ElfInterpreter> elf_interpreter(ByteView elf);

// A file replay wrote, under a name of its own, and open.
struct FileCopy {
  std::string path;
  UniqueFd fd;
};

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
  // A copy of program `id` whose ELF interpreter is `interpreter` (no longer
  // than the recorded name) instead of the recorded one: how replay has the
  // kernel load the trace's copy of the dynamic loader. Throws as content()
  // does.
  const FileCopy& copy_with_interpreter(std::int64_t id, const std::string& interpreter);

 private:
  const trace::FileRecord& record(std::int64_t id);
  // Writes `bytes` as `name` in `place`, a directory of its own under replay's.
  FileCopy write_copy(const std::string& place, const std::string& name, ByteView bytes);

  const trace::TraceReader& reader_;
  std::map<std::int64_t, trace::FileRecord> records_;
  std::map<std::int64_t, Bytes> contents_;
  std::map<std::int64_t, bool> checked_;  // on disk as recorded, or not
  std::map<std::int64_t, FileCopy> copies_;
  std::map<std::pair<std::int64_t, std::string>, FileCopy> interpreted_;
  std::string directory_;  // where the copies are, once there is one
};

}  // namespace ttdb
