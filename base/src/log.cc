#include "ttdb/base/log.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

namespace ttdb::log {
namespace {

unsigned parse_modules() {
  const char* spec = std::getenv("TTDB_LOG");
  if (!spec) return 0;
  std::string_view rest(spec);
  unsigned mask = 0;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto word = rest.substr(0, comma);
    if (word == "all") mask = ~0u;
    if (word == "ptrace") mask |= static_cast<unsigned>(Module::ptrace);
    if (word == "record") mask |= static_cast<unsigned>(Module::record);
    if (word == "replay") mask |= static_cast<unsigned>(Module::replay);
    if (word == "trace") mask |= static_cast<unsigned>(Module::trace);
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
  }
  return mask;
}

const char* module_name(Module module) {
  switch (module) {
    case Module::ptrace: return "ptrace";
    case Module::record: return "record";
    case Module::replay: return "replay";
    case Module::trace: return "trace";
  }
  return "?";
}

}  // namespace

bool enabled(Module module) {
  static const unsigned mask = parse_modules();
  return (mask & static_cast<unsigned>(module)) != 0;
}

void write(Module module, std::string_view line) {
  // Milliseconds since the first line: where a slow run spends its time.
  using Clock = std::chrono::steady_clock;
  static const Clock::time_point start = Clock::now();
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  std::string text = fmt::format("[ttdb {} {:.3f}] {}\n", module_name(module), ms, line);
  // One write per line so that lines from the tracer are never interleaved.
  [[maybe_unused]] auto written = ::write(STDERR_FILENO, text.data(), text.size());
}

}  // namespace ttdb::log
