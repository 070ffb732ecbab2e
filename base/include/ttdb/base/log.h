// Debug logging by module, switched on with TTDB_LOG=ptrace,record,replay,trace
// (or TTDB_LOG=all). Off by default; never used for messages meant for users.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace ttdb::log {

enum class Module : unsigned { ptrace = 1, record = 2, replay = 4, trace = 8 };

bool enabled(Module module);
void write(Module module, std::string_view line);

}  // namespace ttdb::log

#define TTDB_LOG(module, ...)                                               \
  do {                                                                      \
    if (::ttdb::log::enabled(::ttdb::log::Module::module))                  \
      ::ttdb::log::write(::ttdb::log::Module::module, fmt::format(__VA_ARGS__)); \
  } while (0)
