#include "file_contents.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include "ttdb/base/error.h"
#include "ttdb/trace/pack.h"
#include "ttdb/tracer/file_catalog.h"

namespace ttdb {

const trace::FileRecord& FileContents::record(std::int64_t id) {
  auto found = records_.find(id);
  if (found != records_.end()) return found->second;
  auto file = reader_.file(id);
  if (!file) fail("trace {} is corrupt: it refers to file {} but does not list it", reader_.path(), id);
  return records_.emplace(id, std::move(*file)).first->second;
}

void FileContents::check_on_disk(std::int64_t id) {
  if (is_on_disk(id)) return;
  const auto& file = record(id);
  if (!read_whole_file(file.path))
    fail("{} is gone or unreadable, but the recording ran it; restore it (a trace packed while it was there, by ttdb "
         "pack or record --pack, replays without it)",
         file.path);
  fail("{} changed since it was recorded; replay needs the file as it was: restore it, or record again with --pack "
       "to keep a copy in the trace",
       file.path);
}

bool FileContents::is_on_disk(std::int64_t id) {
  // Read and hashed once: libc is mapped in every process of a recording.
  if (auto found = checked_.find(id); found != checked_.end()) return found->second;
  const auto& file = record(id);
  auto bytes = trace::content_as_recorded(file);
  checked_[id] = bytes.has_value();
  if (bytes && !file.blob) contents_.emplace(id, std::move(*bytes));
  return bytes.has_value();
}

std::string FileContents::mappable_path(std::int64_t id) { return is_on_disk(id) ? path(id) : copy_path(id); }

int FileContents::copy_descriptor(std::int64_t id) {
  copy_path(id);
  return copies_.at(id).fd.get();
}

std::string FileContents::copy_path(std::int64_t id) {
  if (auto found = copies_.find(id); found != copies_.end()) return found->second.path;
  if (directory_.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "ttdb-replay-XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
      fail("cannot make a directory for the recorded files' copies in {}: {}; set TMPDIR to a writable directory",
           pattern, errno_text(errno));
    directory_ = pattern;
  }
  // One directory per file keeps its own name, which debuggers show.
  auto place = std::filesystem::path(directory_) / std::to_string(id);
  std::string copy = (place / std::filesystem::path(path(id)).filename()).string();
  std::error_code ec;
  std::filesystem::create_directory(place, ec);
  UniqueFd out(::open(copy.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0500));
  int error = !out ? errno : write_all(out.get(), content(id));
  UniqueFd in(error ? -1 : ::open(copy.c_str(), O_RDONLY | O_CLOEXEC));
  if (error || !in) fail("cannot write a copy of {} to {}: {}; check the space in TMPDIR", path(id), copy, errno_text(error ? error : errno));
  copies_.emplace(id, Copy{copy, std::move(in)});
  return copy;
}

FileContents::~FileContents() {
  if (directory_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

const Bytes& FileContents::content(std::int64_t id) {
  if (auto found = contents_.find(id); found != contents_.end()) return found->second;
  const auto& file = record(id);
  if (file.blob) return contents_.emplace(id, reader_.blob(*file.blob)).first->second;
  check_on_disk(id);
  return contents_.at(id);
}

}  // namespace ttdb
