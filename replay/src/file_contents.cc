#include "file_contents.h"

#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ttdb/base/error.h"
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
    fail("{} is gone or unreadable, but the recording ran it; replay needs the file as it was recorded",
         file.path);
  fail("{} changed since it was recorded; replay needs the file as it was (restore it or record again)", file.path);
}

bool FileContents::is_on_disk(std::int64_t id) {
  // Read and hashed once: libc is mapped in every process of a recording.
  if (auto found = checked_.find(id); found != checked_.end()) return found->second;
  const auto& file = record(id);
  auto bytes = read_whole_file(file.path);
  bool same = bytes && content_hash(*bytes) == file.hash;
  checked_[id] = same;
  if (same && !file.blob) contents_.emplace(id, std::move(*bytes));
  return same;
}

std::string FileContents::mappable_path(std::int64_t id) {
  if (is_on_disk(id)) return path(id);
  auto found = copies_.find(id);
  if (found == copies_.end()) {
    UniqueFd fd(::memfd_create("ttdb-recorded-file", MFD_CLOEXEC));
    if (!fd) fail("cannot make a copy of {} for replay: {}", path(id), errno_text(errno));
    if (int error = write_all(fd.get(), content(id))) fail("cannot make a copy of {} for replay: {}", path(id), errno_text(error));
    found = copies_.emplace(id, std::move(fd)).first;
  }
  return fmt::format("/proc/{}/fd/{}", ::getpid(), found->second.get());
}

const Bytes& FileContents::content(std::int64_t id) {
  if (auto found = contents_.find(id); found != contents_.end()) return found->second;
  const auto& file = record(id);
  if (file.blob) return contents_.emplace(id, reader_.blob(*file.blob)).first->second;
  check_on_disk(id);
  return contents_.at(id);
}

}  // namespace ttdb
