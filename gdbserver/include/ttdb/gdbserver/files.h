// What gdb learns about the program's files over the protocol: the shared
// libraries loaded at this point of the replay (qXfer:libraries-svr4:read),
// named by the files gdb should read for them.
#pragma once

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
// left out, as gdb leaves it out of its own run's list. Each library is
// named by the file gdb should read for it (Engine::local_path): gdb reads
// the recording's files as local files. Serving them through the protocol
// (vFile) would make gdb read every file that way, and it then loads no
// auto-load scripts (libstdc++'s printers), which sit beside local files.
std::string libraries_svr4(Engine& engine, const std::string& auxv, std::string_view annex);


}  // namespace ttdb::gdb
