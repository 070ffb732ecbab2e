// What gdb learns about the program's files over the protocol: the shared
// libraries loaded at this point of the replay (qXfer:libraries-svr4:read),
// named by the files gdb should read for them.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "ttdb/replay/engine.h"

namespace ttdb::gdb {

// The value of `type` in an auxiliary vector (pairs of 64-bit words).
std::optional<std::uint64_t> auxv_value(const std::string& auxv, std::uint64_t type);

// gdb's library-list-svr4 document, read from the dynamic linker's list in
// the program's memory, as gdbserver reads it: `annex` is empty (the whole
// list) or "start=LM;prev=LM" (the part from link map LM on). The vDSO is
// left out, as gdb leaves it out of its own run's list. `local_name` gives
// the file gdb should read for each library's path.
std::string libraries_svr4(Engine& engine, const std::string& auxv, std::string_view annex,
                           const std::function<std::string(const std::string&)>& local_name);

// Where gdb finds the recording's files: their own paths, or, for those the
// disk no longer holds as recorded, copies of the recorded bytes that the
// trace keeps, written to a private directory for as long as the server
// runs. gdb reads them as local files. Serving them through the protocol
// (vFile) would make gdb read every file that way, and it then loads no
// auto-load scripts (libstdc++'s printers), which sit beside local files.
class LocalCopies {
 public:
  explicit LocalCopies(Engine& engine) : engine_(engine) {}
  ~LocalCopies();
  LocalCopies(const LocalCopies&) = delete;
  LocalCopies& operator=(const LocalCopies&) = delete;
  // The path gdb should read for the recorded file `path`.
  std::string local_name(const std::string& path);

 private:
  Engine& engine_;
  std::string directory_;                      // made on first need
  std::map<std::string, std::string> copies_;  // recorded path -> copy
};

}  // namespace ttdb::gdb
