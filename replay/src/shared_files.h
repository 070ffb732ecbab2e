// Files the recording mapped shared (MAP_SHARED), each kept in replay as a
// memfd of the replayer's: every replayed shared mapping of one file, in any
// process, maps that copy (the program opens it as /proc/<ttdb>/fd/N), so
// that two mappings of a file show each other's writes as they did when
// recorded. The file on disk is never touched, and may be gone.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "ttdb/base/bytes.h"
#include "ttdb/base/unique_fd.h"
#include "ttdb/trace/event.h"

namespace ttdb {

class SharedFiles {
 public:
  // The path by which a replayed program opens the copy of `file` (made
  // empty the first time).
  std::string path(const trace::FileIdentity& file);
  // Writes `bytes` at `offset` of the copy. Throws ttdb::Error when the
  // kernel refuses (no memory).
  void write(const trace::FileIdentity& file, std::uint64_t offset, ByteView bytes);
  bool has(const trace::FileIdentity& file) const { return copies_.contains(file); }
  // Makes the copy `size` bytes long.
  void resize(const trace::FileIdentity& file, std::uint64_t size);
  // fallocate(2) on the copy, as the program did on the file; false when
  // the kernel refuses it.
  bool allocate(const trace::FileIdentity& file, int mode, std::uint64_t offset, std::uint64_t length);
  std::uint64_t size(const trace::FileIdentity& file);
  // Every copy's bytes (those larger than `largest` are left out), for a
  // checkpoint: the processes it forks share the copies rather than copy
  // them. And the copies made as they were.
  std::map<trace::FileIdentity, Bytes> contents(std::uint64_t largest);
  void restore(const std::map<trace::FileIdentity, Bytes>& contents);
  // Writes `bytes` at `addr` of process `pid` through the copy its memory
  // there maps: a shared mapping the program cannot write (PROT_READ), which
  // ptrace cannot write either. False when no copy is mapped there.
  bool write_mapped(pid_t pid, std::uint64_t addr, ByteView bytes);

 private:
  struct Copy {
    UniqueFd fd;
    dev_t dev = 0;
    ino_t ino = 0;
  };
  Copy& copy(const trace::FileIdentity& file);

  std::map<trace::FileIdentity, Copy> copies_;
};

}  // namespace ttdb
