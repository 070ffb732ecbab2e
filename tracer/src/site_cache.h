// Syscall sites found before, by the content of the file they are in:
// finding a library's takes milliseconds, which every recording of every
// program that maps it would pay. In $XDG_CACHE_HOME/ttdb (else
// ~/.cache/ttdb), one small file per library mapping; a cache that cannot be
// read or written is no cache, never an error.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ttdb/base/bytes.h"
#include "ttdb/tracer/syscall_sites.h"

namespace ttdb {

class SiteCache {
 public:
  SiteCache();
  // The sites of the code mapped at `start` from the file whose content
  // hashes to `file`, mapped `size` bytes from `offset`.
  std::optional<std::vector<SyscallSite>> load(const ContentHash& file, std::uint64_t offset, std::uint64_t size,
                                               std::uint64_t start) const;
  void store(const ContentHash& file, std::uint64_t offset, std::uint64_t size, std::uint64_t start,
             const std::vector<SyscallSite>& sites) const;

 private:
  std::string path(const ContentHash& file, std::uint64_t offset, std::uint64_t size) const;
  std::string dir_;  // empty: no cache
};

}  // namespace ttdb
