#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <cstdio>
#include <map>

#include "commands.h"
#include "trace_tasks.h"
#include "ttdb/trace/format.h"
#include "ttdb/trace/reader.h"
#include "ttdb/trace/tools.h"
#include "ttdb/tracer/render.h"
#include "ttdb/tracer/syscall_table.h"
#include "ttdb/tracer/wait_status.h"

namespace ttdb {
namespace {

std::string when(std::int64_t ns) {
  std::time_t seconds = static_cast<std::time_t>(ns / 1'000'000'000);
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(seconds));
}

std::uint64_t trace_size(const std::string& path) {
  std::uint64_t total = 0;
  for (const char* suffix : {"", "-wal"}) {
    struct stat st;
    if (::stat((path + suffix).c_str(), &st) == 0) total += static_cast<std::uint64_t>(st.st_size);
  }
  return total;
}

// What the trace holds of the files the recording ran and mapped, and which
// replay must find on disk.
void print_files(const trace::TraceReader& reader) {
  auto files = reader.files();
  std::size_t held = 0;
  std::uint64_t held_bytes = 0;
  for (const auto& f : files)
    if (f.blob) ++held, held_bytes += f.size;
  if (held == files.size())
    fmt::print("files:     {} run or mapped, all in the trace ({}): replay needs none of them on disk\n", files.size(),
               human_size(held_bytes));
  else
    fmt::print("files:     {} run or mapped, {} in the trace ({}); replay reads the other {} from disk ('ttdb pack' copies them in)\n",
               files.size(), held, human_size(held_bytes), files.size() - held);
  for (const auto& f : files)
    fmt::print("  {:<6} {:>10}  {:<13} {}\n", f.role, human_size(f.size), f.blob ? "in the trace" : "on disk", f.path);
}

}  // namespace

std::string quoted_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !arg.empty() && arg.find_first_of(" \t\n\"'\\$`*?") == std::string::npos;
    out += plain ? arg : escape_bytes(as_bytes(arg), 4096);
  }
  return out;
}

std::string human_size(std::uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} bytes", bytes);
  if (bytes < 1024 * 1024) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024.0));
}

int run_info(const InfoArgs& args) {
  std::string path = trace_or_latest(args.trace);
  trace::TraceReader reader(path);
  namespace meta = trace::meta;
  std::int64_t events = reader.event_count();
  std::map<trace::EventKind, std::int64_t> kinds;
  TaskTracker tracker(reader);
  auto cursor = reader.cursor();
  for (trace::Event e; cursor.next(e);) {
    ++kinds[e.kind];
    tracker.see(e);
  }
  // Each process, numbered as the shell and `ttdb serve --process` number
  // them: the program ttdb started, then in the order they were forked.
  std::vector<const TraceTask*> list;
  for (const auto& task : tracker.tasks())
    if (task.tid == task.process) list.push_back(&task);
  std::size_t processes = list.size(), threads = tracker.tasks().size();
  std::string counts;
  for (const auto& [kind, count] : kinds)
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", count, trace::kind_name(kind));

  fmt::print("trace:     {} ({})\n", path, human_size(trace_size(path)));
  fmt::print("format:    version {}\n", reader.meta_int(meta::format_version).value_or(0));
  fmt::print("program:   {}\n", reader.meta(meta::program).value_or("?"));
  fmt::print("argv:      {}\n", quoted_argv(reader.argv()));
  fmt::print("cwd:       {}\n", reader.meta(meta::cwd).value_or("?"));
  if (auto start = reader.meta_int(meta::start_time_ns))
    fmt::print("recorded:  {} on {} (Linux {})\n", when(*start), reader.meta(meta::hostname).value_or("?"),
               reader.meta(meta::kernel).value_or("?"));
  if (auto from = reader.meta(meta::live_from))
    fmt::print("live:      events 1 to {} come from {}; then the process ran on live, recorded (go-live --record)\n",
               reader.meta_int(meta::live_after_event).value_or(0), *from);
  fmt::print("events:    {}{}\n", events, counts.empty() ? "" : " (" + counts + ")");
  if (threads > 1) fmt::print("processes: {}\nthreads:   {}\n", processes, threads);
  // A build's hundreds of processes would bury the rest: ttdb ps lists them all.
  constexpr std::size_t kListed = 20;
  if (list.size() > 1)
    for (std::size_t i = 0; i < std::min(list.size(), kListed); ++i)
      fmt::print("  process {}: pid {}, events {} to {}\n", i + 1, list[i]->tid, list[i]->first_event,
                 list[i]->exit ? fmt::to_string(list[i]->exit->id) : "the end");
  if (list.size() > kListed) fmt::print("  and {} more ('ttdb ps' lists them all)\n", list.size() - kListed);
  if (auto baseline = reader.meta(meta::cpu_baseline))
    fmt::print("cpu:       held to {}: replays on any CPU that meets it\n", *baseline);
  else if (auto features = reader.meta(meta::cpu_features))
    fmt::print("cpu:       {}: replays on a CPU that has these features\n", *features);
  print_files(reader);
  if (reader.finished()) {
    std::string how = reader.meta(meta::exit_kind).value_or("") == "killed"
                          ? "killed by " + signal_name(static_cast<int>(reader.meta_int(meta::exit_code).value_or(0)))
                          : fmt::format("exited with status {}", reader.meta_int(meta::exit_code).value_or(0));
    fmt::print("finished:  yes, the program {}\n", how);
  } else {
    fmt::print("finished:  no, the recording is incomplete: it ends at event {} ({})\n", events,
               reader.meta(meta::end_reason).value_or("the recorder stopped before the program ended"));
  }
  return 0;
}

int run_events(const EventsArgs& args) {
  std::optional<int> only;
  if (!args.syscall.empty()) {
    only = syscall_number(args.syscall);
    if (!only) throw UsageError(fmt::format("there is no syscall named '{}'", args.syscall));
  }
  trace::TraceReader reader(trace_or_latest(args.trace));
  // With several processes, each event says whose it is, as strace -f does.
  bool several = reader.meta_int(trace::meta::processes).value_or(1) > 1;
  std::int64_t shown = 0;
  auto cursor = reader.cursor(args.from);
  trace::Event e;
  while ((args.limit < 0 || shown < args.limit) && cursor.next(e)) {
    if (only && (e.kind != trace::EventKind::syscall || e.nr != *only)) continue;
    fmt::print("{}\n", event_line(e, several));
    ++shown;
  }
  return 0;
}

int run_sql(const SqlArgs& args) {
  auto print_row = [](const std::vector<std::string>& values) {
    std::string line;
    for (std::size_t i = 0; i < values.size(); ++i) line += (i ? "|" : "") + values[i];
    fmt::print("{}\n", line);
  };
  try {
    trace::query(trace_or_latest(args.trace), args.query, args.header ? print_row : [](const std::vector<std::string>&) {},
                 print_row);
  } catch (const trace::QueryRefused& e) {
    throw UsageError(e.what());
  }
  return 0;
}

}  // namespace ttdb
