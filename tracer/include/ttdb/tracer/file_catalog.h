// The files a recorded program runs or maps into memory.
//
// Replay must see the same bytes even if a file changes or vanishes later, so
// a file's content goes into the trace unless it is a system file (owned by
// root, not writable by others, under /usr, /lib, /bin, /sbin or /opt), which
// only a package upgrade changes: for those the trace keeps a hash, and
// replay refuses, naming the file, if it no longer matches.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "ttdb/base/bytes.h"
#include "ttdb/trace/event.h"

namespace ttdb {

bool is_system_file(const std::string& path, const struct stat& st);

// Replay: whether the system file at `path` holds the content `hash` names,
// as a recording or replay on this machine found for the same version of
// it (device, inode, size and times), without reading it; false when none
// did, or it is not a system file. remember_system_file says what was found.
bool system_file_known_as(const std::string& path, const ContentHash& hash);
void remember_system_file(const std::string& path, const ContentHash& hash);

class SiteCache;
class TraceThread;

class FileCatalog {
 public:
  // `cache` knows system files' hashes from earlier recordings.
  // `copy_all`: system files' contents go into the trace too (ttdb record --pack).
  FileCatalog(TraceThread& writer, const SiteCache& cache, bool copy_all)
      : writer_(writer), cache_(cache), copy_all_(copy_all) {}

  struct Entry {
    std::int64_t id = 0;
    std::uint64_t size = 0;
    ContentHash hash{};
  };
  // Adds the file reachable at `open_path` (a path, or /proc/PID/fd/N), known
  // to the program as `path`, once per file version; nullopt when it is not a
  // regular file.
  std::optional<Entry> add(const std::string& open_path, const std::string& path,
                           const std::string& role);
  // The entry of the file version reachable at `open_path`, if added before.
  std::optional<Entry> find(const std::string& open_path) const;
  // The same for a version the caller has stat'ed already (no syscall: a
  // process maps libc in four calls, and every process of a shell maps it).
  std::optional<Entry> find(const struct stat& st) const;

 private:
  // A file version: device, inode, size, and the modification and change
  // times in nanoseconds.
  using Identity = std::tuple<dev_t, ino_t, off_t, std::int64_t, std::int64_t>;
  static std::optional<Identity> identity(const std::string& open_path, struct stat& st);
  static std::optional<Identity> identity(const struct stat& st);
  TraceThread& writer_;
  const SiteCache& cache_;
  bool copy_all_;
  std::map<Identity, Entry> entries_;
};

}  // namespace ttdb
