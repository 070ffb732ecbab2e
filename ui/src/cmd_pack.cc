#include <fmt/format.h>

#include <cstdio>

#include "commands.h"
#include "ttdb/trace/pack.h"

namespace ttdb {

int run_pack(const PackArgs& args) {
  std::string trace = trace_or_latest(args.trace);
  trace::PackOutcome outcome = trace::pack(trace);
  if (!outcome.missing.empty()) {
    const auto& first = outcome.missing.front();
    std::string more = outcome.missing.size() > 1 ? fmt::format(" (and {} more)", outcome.missing.size() - 1) : "";
    fail("cannot pack {} into {}: it is gone or changed since it was recorded{}; the trace replays only where it is as "
         "recorded (restore it, or record again and pack at once with ttdb record --pack)",
         first.path, trace, more);
  }
  if (outcome.added == 0)
    std::fprintf(stderr, "ttdb: %s holds every file it ran and mapped already\n", trace.c_str());
  else
    std::fprintf(stderr, "ttdb: packed %lld files (%s, %s compressed) into %s\n",
                 static_cast<long long>(outcome.added), human_size(outcome.bytes).c_str(),
                 human_size(outcome.stored).c_str(), trace.c_str());
  return 0;
}

}  // namespace ttdb
