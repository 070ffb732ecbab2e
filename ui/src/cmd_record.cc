#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "trace_paths.h"
#include "ttdb/trace/reader.h"
#include "ttdb/trace/writer.h"
#include "ttdb/tracer/launcher.h"
#include "ttdb/tracer/record.h"
#include "ttdb/ui/cli.h"

extern char** environ;

namespace ttdb {
namespace {

void print_warning(const std::string& message) { std::fprintf(stderr, "ttdb: warning: %s\n", message.c_str()); }

std::vector<std::string> current_environment() {
  std::vector<std::string> env;
  for (char** var = environ; *var; ++var) env.emplace_back(*var);
  return env;
}

// A trace that never got a single event is no use to anyone.
void remove_trace(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ec);
}

}  // namespace

int run_record(const RecordArgs& args) {
  RecordOptions options;
  options.program = resolve_program(args.command.at(0));
  options.argv = args.command;
  options.env = current_environment();
  options.warn = print_warning;
  options.syscall_buffer = !args.no_syscall_buffer;
  options.buffer_after = args.buffer_after;
  options.trap_rdtsc = args.trap_rdtsc;
  options.pack = args.pack;
  options.cpu_baseline = args.cpu_baseline;
  bool default_place = args.output.empty();
  options.trace_path = default_place ? new_trace_path(args.command[0]) : args.output;
  options.trace_claimed = default_place;

  RecordOutcome outcome;
  try {
    outcome = record(options);
  } catch (const LaunchError&) {
    remove_trace(options.trace_path);
    throw;
  } catch (const trace::DiskFull& full) {
    // What was committed before replays as an incomplete recording; a trace
    // with no event would only be in the way.
    std::int64_t kept = 0;
    try {
      kept = trace::TraceReader(options.trace_path).event_count();
    } catch (const Error&) {
    }
    if (kept == 0) {
      remove_trace(options.trace_path);
      fail("{} before the first events were written, so no trace was kept; free some space and record again",
           full.what());
    }
    if (default_place) update_latest_link(options.trace_path);
    fail("{}; its first {} events replay as an incomplete recording (free some space to record it all)", full.what(),
         kept);
  } catch (const Error&) {
    // A recording that failed on the way (a full disk) keeps what it wrote: the newest trace.
    std::error_code ec;
    if (default_place && std::filesystem::file_size(options.trace_path, ec) > 0 && !ec)
      update_latest_link(options.trace_path);
    throw;
  }
  if (default_place) update_latest_link(options.trace_path);

  if (!outcome.finished) {
    std::fprintf(stderr, "ttdb: recording stopped: %s; the trace up to event %lld is in %s\n",
                 outcome.stop_reason.c_str(), static_cast<long long>(outcome.events), options.trace_path.c_str());
    return kExitFailure;
  }
  if (!args.quiet) {
    std::string how = outcome.status.kind() == WaitStatus::Kind::killed
                          ? fmt::format("{} was {}; ", args.command[0], outcome.status.describe())
                          : "";
    std::fprintf(stderr, "ttdb: %strace of %lld events written to %s\n", how.c_str(),
                 static_cast<long long>(outcome.events), options.trace_path.c_str());
  }
  return outcome.status.shell_status();
}

}  // namespace ttdb
