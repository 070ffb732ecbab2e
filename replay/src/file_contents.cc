#include "file_contents.h"

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
  if (checked_.count(id)) return;
  const auto& file = record(id);
  auto bytes = read_whole_file(file.path);
  if (!bytes)
    fail("{} is gone or unreadable, but the recording ran it; replay needs the file as it was recorded",
         file.path);
  if (content_hash(*bytes) != file.hash)
    fail("{} changed since it was recorded; replay needs the file as it was (restore it or record again)",
         file.path);
  checked_[id] = true;
  if (!file.blob) contents_.emplace(id, std::move(*bytes));
}

bool FileContents::is_on_disk(std::int64_t id) {
  if (checked_.count(id)) return true;
  auto bytes = read_whole_file(record(id).path);
  return bytes && content_hash(*bytes) == record(id).hash;
}

const Bytes& FileContents::content(std::int64_t id) {
  if (auto found = contents_.find(id); found != contents_.end()) return found->second;
  const auto& file = record(id);
  if (file.blob) return contents_.emplace(id, reader_.blob(*file.blob)).first->second;
  check_on_disk(id);
  return contents_.at(id);
}

}  // namespace ttdb
