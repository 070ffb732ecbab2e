#include "ttdb/tracer/file_catalog.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "ttdb/base/error.h"
#include "ttdb/base/log.h"
#include "ttdb/base/unique_fd.h"
#include "site_cache.h"
#include "trace_thread.h"

namespace ttdb {

bool is_system_file(const std::string& path, const struct stat& st) {
  static const char* const kSystemDirs[] = {"/usr/", "/lib/", "/lib64/", "/bin/", "/sbin/", "/opt/"};
  bool in_system_dir = false;
  for (const char* dir : kSystemDirs) in_system_dir = in_system_dir || path.starts_with(dir);
  return in_system_dir && st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

bool system_file_known_as(const std::string& path, const ContentHash& hash) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !is_system_file(path, st)) return false;
  return site_cache().load_hash(st) == hash;
}

void remember_system_file(const std::string& path, const ContentHash& hash) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && is_system_file(path, st)) site_cache().store_hash(st, hash);
}

std::optional<FileCatalog::Identity> FileCatalog::identity(const std::string& open_path, struct stat& st) {
  if (::stat(open_path.c_str(), &st) != 0) return std::nullopt;
  return identity(st);
}

std::optional<FileCatalog::Identity> FileCatalog::identity(const struct stat& st) {
  if (!S_ISREG(st.st_mode)) return std::nullopt;
  auto ns = [](const timespec& t) { return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; };
  return Identity{st.st_dev, st.st_ino, st.st_size, ns(st.st_mtim), ns(st.st_ctim)};
}

std::optional<FileCatalog::Entry> FileCatalog::find(const struct stat& st) const {
  auto version = identity(st);
  if (!version) return std::nullopt;
  auto found = entries_.find(*version);
  if (found == entries_.end()) return std::nullopt;
  return found->second;
}

std::optional<FileCatalog::Entry> FileCatalog::find(const std::string& open_path) const {
  struct stat st;
  auto version = identity(open_path, st);
  if (!version) return std::nullopt;
  auto found = entries_.find(*version);
  if (found == entries_.end()) return std::nullopt;
  return found->second;
}

std::optional<FileCatalog::Entry> FileCatalog::add(const std::string& open_path,
                                                   const std::string& path, const std::string& role) {
  struct stat st;
  auto version = identity(open_path, st);
  if (!version) return std::nullopt;
  if (auto found = entries_.find(*version); found != entries_.end()) return found->second;
  std::int64_t mtime_ns = std::get<3>(*version);

  trace::FileRecord record;
  record.path = path;
  record.mtime_ns = mtime_ns;
  record.role = role;
  bool keep_copy = copy_all_ || !is_system_file(path, st);
  // A system file's hash from an earlier recording, when the file is the same version.
  std::optional<ContentHash> known = keep_copy ? std::nullopt : cache_.load_hash(st);
  std::optional<Bytes> content;
  if (known) {
    record.hash = *known;
    record.size = static_cast<std::uint64_t>(st.st_size);
  } else {
    content = read_whole_file(open_path);
    if (!content) fail("cannot read {}, which the program maps: {}", path, errno_text(errno));
    record.hash = content_hash(*content);
    record.size = content->size();
    if (!keep_copy && record.size == static_cast<std::uint64_t>(st.st_size)) cache_.store_hash(st, record.hash);
  }
  std::uint64_t size = record.size;
  std::int64_t id = writer_.add_file(record, keep_copy ? std::move(content) : std::nullopt);
  TTDB_LOG(record, "file {} ({} bytes, {}) is file {}", path, size, keep_copy ? "copied" : known ? "hash known" : "hashed", id);
  Entry entry{id, size, record.hash};
  entries_.emplace(*version, entry);
  return entry;
}

}  // namespace ttdb
