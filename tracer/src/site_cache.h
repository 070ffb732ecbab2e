// What ttdb finds in a library once, kept for every later recording and
// replay of every program that maps it: its syscall sites and its
// rdrand/rdseed sites by the content of the file they are in (finding them
// takes milliseconds), a system file's content hash by the file's
// version (reading and hashing libc is most of a short program's fixed
// cost), and the vDSO's treatment by its content (0.6 to 0.9 ms of every
// recording's start). In $XDG_CACHE_HOME/ttdb (else ~/.cache/ttdb), one small file each;
// a cache that cannot be read or written is no cache, never an error.
#pragma once

#include <sys/stat.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ttdb/base/bytes.h"
#include "ttdb/tracer/nondet_insn.h"
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
  // The same for rdrand/rdseed sites.
  std::optional<std::vector<RandSite>> load_rand(const ContentHash& file, std::uint64_t offset, std::uint64_t size,
                                                 std::uint64_t start) const;
  void store_rand(const ContentHash& file, std::uint64_t offset, std::uint64_t size, std::uint64_t start,
                  const std::vector<RandSite>& sites) const;
  // The content hash of the file version `st` describes (its device,
  // inode, size and times): for system files, which only a package
  // upgrade changes, and which changes those.
  std::optional<ContentHash> load_hash(const struct stat& st) const;
  void store_hash(const struct stat& st, const ContentHash& hash) const;
  // Whether a run of the program whose file hashes to `program` made enough
  // calls to get the syscall buffer (RecordOptions::buffer_after): its
  // next runs get it at their exec.
  bool buffers(const ContentHash& program) const;
  void note_buffers(const ContentHash& program) const;
  void forget_buffers(const ContentHash& program) const;
  // What ttdb made of the vDSO whose content hashes to `vdso`, as its
  // caller laid it out (`how` names the treatment and its version): the
  // same for every process on this kernel.
  std::optional<Bytes> load_vdso(const ContentHash& vdso, const std::string& how) const;
  void store_vdso(const ContentHash& vdso, const std::string& how, ByteView treated) const;

 private:
  std::string path(const ContentHash& file, std::uint64_t offset, std::uint64_t size) const;
  std::string rand_path(const ContentHash& file, std::uint64_t offset, std::uint64_t size) const;
  std::string hash_path(const struct stat& st) const;
  std::string buffers_path(const ContentHash& program) const;
  std::string vdso_path(const ContentHash& vdso, const std::string& how) const;
  // Whole or not at all: written aside, then renamed into place.
  bool store_bytes(const std::string& final_path, ByteView bytes) const;
  // A cache file's bytes, read once per ttdb: a shell's processes map the
  // same libc and loader, two hundred times. Bytes that turn out not to
  // parse are forgotten (forget_kept), so that a good file read later counts.
  std::optional<Bytes> read_kept(const std::string& path) const;
  void forget_kept(const std::string& path) const;
  std::string dir_;  // empty: no cache
  mutable std::mutex kept_mutex_;  // (the global cache serves replay's threads too)
  mutable std::map<std::string, Bytes> kept_;
};

// The cache of this machine, made once per ttdb: for code that has no
// SiteCache of its own at hand.
const SiteCache& site_cache();

}  // namespace ttdb
