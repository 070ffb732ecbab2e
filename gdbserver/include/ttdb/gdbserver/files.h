// What gdb learns about the program's files over the protocol: the shared
// libraries loaded at this point of the replay (qXfer:libraries-svr4:read),
// and the bytes of files (vFile:open/pread/close) for those the disk no
// longer holds as recorded.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "ttdb/base/bytes.h"
#include "ttdb/base/unique_fd.h"
#include "ttdb/replay/engine.h"

namespace ttdb::gdb {

// The value of `type` in an auxiliary vector (pairs of 64-bit words).
std::optional<std::uint64_t> auxv_value(const std::string& auxv, std::uint64_t type);

// gdb's library-list-svr4 document, read from the dynamic linker's list in
// the program's memory, as gdbserver reads it: `annex` is empty (the whole
// list) or "start=LM;prev=LM" (the part from link map LM on). The vDSO is
// left out, as gdb leaves it out of its own run's list.
std::string libraries_svr4(Engine& engine, const std::string& auxv, std::string_view annex);

// gdb's host I/O (vFile), read-only. gdb reads every file through it once
// the server answers it, and then misses the auto-load scripts (libstdc++'s
// printers) that sit beside the local files: so it answers only when some
// file the recording ran or mapped is no longer on disk as recorded and the
// trace keeps its bytes. Those come from the trace, other files from disk.
class HostFiles {
 public:
  explicit HostFiles(Engine& engine) : engine_(engine) {}
  // The reply to a vFile packet, given without "vFile:"; "" when gdb should
  // read the local disk itself.
  std::string handle(std::string_view packet);

 private:
  struct OpenFile {
    const Bytes* copy = nullptr;  // the recorded bytes, else read `fd`
    UniqueFd fd;
  };
  std::string open(std::string_view args);
  std::string pread(std::string_view args);
  std::string fstat(std::string_view args);
  bool enabled();

  Engine& engine_;
  std::optional<bool> enabled_;
  std::map<int, OpenFile> files_;
  int next_fd_ = 1;
};

}  // namespace ttdb::gdb
