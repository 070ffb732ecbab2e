// Parses the command line (CLI11) and runs the chosen command. This is the
// only place that catches ttdb::Error and prints it.
#include "ttdb/ui/cli.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <string_view>

#include "commands.h"
#include "ttdb/base/error.h"
#include "ttdb/base/parse.h"
#include "ttdb/tracer/launcher.h"

namespace ttdb {
namespace {

constexpr const char* kDescription =
    "ttdb: a time-travel debugger for Linux programs.\n"
    "Record a program once, then replay that exact execution as often as you like.";

void print_error(const std::string& message) { std::fprintf(stderr, "ttdb: %s\n", message.c_str()); }

// A path option given as '' names nothing: an error, not the default.
const CLI::Validator kNonEmpty(
    [](std::string& value) { return value.empty() ? std::string("the path is empty; name a file, or leave the option out") : ""; },
    "", "NONEMPTY");

// A whole number from `min` to `max`: CLI11's own checks let 18446744073709551615 wrap to -1.
CLI::Validator number_in(std::uint64_t min, std::uint64_t max) {
  return CLI::Validator(
      [=](std::string& value) {
        auto n = parse_uint(value);
        if (n && *n >= min && *n <= max) return std::string();
        return fmt::format("{} is not a number from {} to {}", value, min, max);
      },
      "", "NUMBER");
}
constexpr std::uint64_t kInt64Max = 0x7fffffffffffffff;

// The TRACE argument every command but record takes.
void add_trace_argument(CLI::App* command, std::string& trace) {
  command->add_option("trace", trace, "The trace (default: the latest recording)")->option_text("TRACE")->check(kNonEmpty);
}

// A closed stdin, stdout or stderr must stay unusable: otherwise the next file
// ttdb opens takes its number, and output meant for the terminal goes into it.
// /dev/null opened the wrong way round holds the number, and every write (or
// read) on it still fails with EBADF, as on the closed descriptor.
void hold_closed_standard_fds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    int held = ::open("/dev/null", (fd == 0 ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
    if (held >= 0 && held != fd) {
      ::dup3(held, fd, O_CLOEXEC);
      ::close(held);
    }
  }
}

// Output that could not be written is a failure, not a silent success.
int check_output(int status, int failure_status) {
  errno = 0;
  bool failed = std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout.flush();
  std::string reason = fd_sink_failure() ? errno_text(fd_sink_failure()) : errno ? errno_text(errno) : "write error";
  if (!failed && !fd_sink_failure()) return status;
  print_error(fmt::format("cannot write to stdout ({}): the output is lost; check that stdout is open and its disk not full", reason));
  return status == kExitIncomplete || status == kExitDiverged ? status : failure_status;
}

}  // namespace

int run_cli(int argc, char** argv) {
  // Blocks of a hundred kilobytes go between ttdb's threads hundreds of
  // times a second (the syscall buffer's records to the trace writer, the
  // trace's chunks to the replayer): glibc would map each afresh and give
  // it back, and ttdb paid a page fault for every 4 KiB of them. Blocks
  // this size stay in the heap, which keeps what they free.
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
  // record leaves the program's descriptors as they are; it writes nothing to stdout itself.
  if (argc < 2 || std::string_view(argv[1]) != "record") hold_closed_standard_fds();
  CLI::App app(kDescription, "ttdb");
  app.require_subcommand(1);
  app.set_version_flag("--version", "ttdb " TTDB_VERSION);
  app.footer("Run 'ttdb COMMAND --help' for a command's options; docs/commands.md has examples.\n");

  RecordArgs record_args;
  auto* record = app.add_subcommand("record", "Run PROG under the recorder and write a trace");
  record->add_option("-o,--output", record_args.output, "Write the trace to TRACE (default: a new file in the trace directory)")
      ->option_text("TRACE")
      ->check(kNonEmpty);
  record->add_flag("-q,--quiet", record_args.quiet, "Do not print where the trace went");
  record->add_flag("-n,--no-syscall-buffer", record_args.no_syscall_buffer,
                   "Stop at every syscall instead of recording the frequent ones inside the program (slower)");
  record->add_option("--buffer-after", record_args.buffer_after,
                     "Give a program's libraries the syscall buffer once it has made N calls the buffer would record "
                     "(default 48; 0: from its start; its own code and the loader have it at its exec); a program that "
                     "ends sooner never pays for patching them")
      ->option_text("N");
  record->add_flag("--trap-rdtsc", record_args.trap_rdtsc,
                   "Make rdtsc fault everywhere, so that every clock read is a syscall, as ttdb did before it let the "
                   "vDSO read the clock (slower)");
  record->add_flag("--pack", record_args.pack,
                   "Copy system files the program runs or maps into the trace too, so that it replays where they differ");
  record->add_option("--cpu-baseline", record_args.cpu_baseline,
                     "Hold glibc to x86-64, x86-64-v2, -v3 or -v4, so that the trace replays on any CPU that meets it")
      ->option_text("LEVEL")
      ->check(CLI::IsMember({"x86-64", "x86-64-v2", "x86-64-v3", "x86-64-v4"}));
  record->add_option("PROG", record_args.command,
                     "The program to record and its arguments; put -- before PROG when it begins with -")
      ->option_text(" ");
  record->footer("Example: ttdb record -o ls.ttdb -- ls -la /usr/share/doc\n");

  ReplayArgs replay_args;
  auto* replay = app.add_subcommand("replay", "Replay a recording");
  replay->add_flag("--run", replay_args.run, "Replay to the end without a shell, re-emitting the program's output");
  replay->add_option("--process", replay_args.process, "With --gdb: only process N of a recording with several ('ttdb info' lists them)")
      ->option_text("N")
      ->check(number_in(1, 1'000'000));
  replay->add_flag("--gdb", replay_args.gdb, "Start gdb on the recorded program, driving the replay (ttdb serve); gdb's own options after --");
  add_trace_argument(replay, replay_args.trace);
  std::vector<std::string> script_files, script_commands;
  replay->add_option("-x,--command", script_files, "Run the shell commands in FILE, then exit (repeatable)")
      ->option_text("FILE")
      ->allow_extra_args(false);
  replay->add_option("--ex,--eval-command", script_commands, "Run shell command CMD, then exit (repeatable; gdb's -ex)")
      ->option_text("CMD")
      ->allow_extra_args(false);
  auto* junit = replay->add_option("--junit", replay_args.junit, "With -x/-ex: write the asserts' results to FILE as JUnit XML")
                    ->option_text("FILE")
                    ->check(kNonEmpty);
  replay->add_option("--checkpoints", replay_args.checkpoint_budget, "Keep at most N automatic checkpoints (default 1024)")
      ->option_text("N")
      ->check(number_in(1, 1'000'000));
  replay->add_option("--checkpoint-memory", replay_args.checkpoint_memory_mib,
                     "Keep the checkpoints' private memory under MIB mebibytes (default 1024)")
      ->option_text("MIB")
      ->check(number_in(1, 1 << 24));
  replay->add_option("--checkpoint-interval", replay_args.checkpoint_interval_ms,
                     "Take an automatic checkpoint after MS milliseconds of replay (default 20; 0: at every stop)")
      ->option_text("MS")
      ->check(number_in(0, 86'400'000));
  replay->footer(
      "Without --run, opens the shell at the program's first instruction.\n"
      "Examples: ttdb replay --run ls.ttdb\n"
      "          ttdb replay -ex 'break main' -ex continue -ex 'print argc' ls.ttdb\n"
      "          ttdb replay --gdb prog.ttdb -- -ex 'break main' -ex continue\n");

  ServeArgs serve_args;
  auto* serve = app.add_subcommand("serve", "Serve a recording to gdb over its remote protocol, on stdin and stdout");
  add_trace_argument(serve, serve_args.trace);
  serve->add_option("--process", serve_args.process, "Serve only process N of a recording with several ('ttdb info' lists them)")
      ->option_text("N")
      ->check(number_in(1, 1'000'000));
  serve->add_option("--port", serve_args.port, "Listen on 127.0.0.1:N instead (0: any free port), for one connection")
      ->option_text("N")
      ->check(number_in(0, 65535));
  serve->footer(
      "Example: gdb -ex 'target remote | ttdb serve prog.ttdb' ./prog\n"
      "         ttdb serve --port 5555 prog.ttdb   (then in gdb: target remote 127.0.0.1:5555)\n");

  InfoArgs info_args;
  auto* info = app.add_subcommand("info", "Describe a recording");
  add_trace_argument(info, info_args.trace);

  EventsArgs events_args;
  auto* events = app.add_subcommand("events", "List a recording's events, syscalls as strace shows them");
  add_trace_argument(events, events_args.trace);
  events->add_option("--syscall", events_args.syscall, "Only this syscall's events")
      ->option_text("NAME")
      ->check(CLI::Validator([](std::string& v) { return v.empty() ? std::string("the syscall name is empty") : ""; }, "", "NAME"));
  events->add_option("--from", events_args.from, "Start at event N")->option_text("N")->check(number_in(1, kInt64Max));
  events->add_option("--limit", events_args.limit, "Show at most N events")->option_text("N")->check(number_in(0, kInt64Max));

  PsArgs ps_args;
  auto* ps = app.add_subcommand("ps", "List a recording's processes and threads: pid, parent, exit status, command line");
  add_trace_argument(ps, ps_args.trace);

  TimelineArgs timeline_args;
  auto* timeline = app.add_subcommand("timeline", "Draw a recording as one HTML page: a lane per process and thread along its events");
  add_trace_argument(timeline, timeline_args.trace);
  timeline->add_option("-o,--output", timeline_args.output, "Write the page to FILE")->option_text("FILE")->required()->check(kNonEmpty);
  timeline->footer("Example: ttdb timeline make.ttdb -o make.html   (open it in any browser; it needs no network)\n");

  PackArgs pack_args;
  auto* pack = app.add_subcommand("pack", "Copy into a recording the files it only checks on disk");
  add_trace_argument(pack, pack_args.trace);
  pack->footer(
      "A packed trace replays with nothing from this machine but ttdb: after the program is rebuilt or\n"
      "deleted, and elsewhere. Example: ttdb pack ls.ttdb\n");

  SqlArgs sql_args;
  auto* sql = app.add_subcommand("sql", "Query a recording with SQL, one row per event");
  sql->add_option("query", sql_args.query, "SQL statements; tables events, mem, syscalls (see docs/trace-format.md)")
      ->option_text("QUERY")
      ->required();
  add_trace_argument(sql, sql_args.trace);
  sql->add_flag("-H,--header", sql_args.header, "Print the column names first");
  sql->footer("Example: ttdb sql \"SELECT event, path, ret FROM syscalls WHERE name = 'openat'\" ls.ttdb\n");

  // The program's own arguments never reach the option parser: it sees ttdb's
  // options up to PROG (or "--"), and PROG ARGS... are kept aside verbatim.
  std::vector<std::string> command;
  if (argc >= 2 && std::string_view(argv[1]) == "record") {
    int split = 2;
    while (split < argc) {
      std::string_view arg = argv[split];
      if (arg == "--") {
        command.assign(argv + split + 1, argv + argc);
        break;
      }
      if (arg.size() < 2 || arg[0] != '-') {
        command.assign(argv + split, argv + argc);
        break;
      }
      split += arg == "-o" || arg == "--output" || arg == "--cpu-baseline" || arg == "--buffer-after" ? 2 : 1;
    }
    argc = std::min(split, argc);
  }

  // gdb spells -ex with one dash; CLI11 wants two. Keep the order of -x and
  // -ex as given: scripts run in that order.
  std::vector<std::string> replay_argv;
  if (argc >= 2 && std::string_view(argv[1]) == "replay") {
    for (int i = 0; i < argc; ++i) {
      std::string arg = argv[i];
      // With --gdb, what follows "--" is gdb's, untouched.
      if (arg == "--" && std::find(argv + 2, argv + i, std::string_view("--gdb")) != argv + i) {
        replay_args.gdb_args.assign(argv + i + 1, argv + argc);
        break;
      }
      if (arg == "-ex") arg = "--ex";
      bool file = arg == "-x" || arg == "--command", command_option = arg == "--ex" || arg == "--eval-command";
      if ((file || command_option) && i + 1 < argc) replay_args.script.emplace_back(file, argv[i + 1]);
      replay_argv.push_back(arg);
    }
  }
  std::vector<char*> replay_argv_pointers;
  for (auto& a : replay_argv) replay_argv_pointers.push_back(a.data());
  if (!replay_argv.empty()) {
    argv = replay_argv_pointers.data();
    argc = static_cast<int>(replay_argv.size());
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(fmt::format("{}; run 'ttdb --help' for usage", e.what()));
    return kExitUsage;
  }

  // Commands that only read a trace fail with 1, like other inspection tools;
  // record and replay use 125, far from the statuses programs usually return.
  int failure_status = *info || *events || *sql || *pack || *ps || *timeline ? 1 : kExitFailure;
  try {
    if (*record) {
      record_args.command = command;
      if (record_args.command.empty()) throw UsageError("record needs a program to run: ttdb record [OPTIONS] [--] PROG [ARGS...]");
      return run_record(record_args);
    }
    if (*replay) {
      if (junit->count() && replay_args.script.empty())
        throw UsageError("--junit reports the asserts of a script: give it with -x FILE or -ex CMD");
      if (replay_args.gdb && (replay_args.run || !replay_args.script.empty()))
        throw UsageError("--gdb hands the replay to gdb: give gdb's commands after --, as in: ttdb replay --gdb TRACE -- -ex 'break main'");
      if (replay_args.process && !replay_args.gdb) throw UsageError("--process picks the process gdb sees: give it with --gdb");
      if (replay_args.gdb) return run_gdb(replay_args);
      return check_output(run_replay(replay_args), failure_status);
    }
    if (*serve) return run_serve(serve_args);
    if (*info) return check_output(run_info(info_args), failure_status);
    if (*pack) return run_pack(pack_args);
    if (*ps) return check_output(run_ps(ps_args), failure_status);
    if (*timeline) return run_timeline(timeline_args);
    if (*events) return check_output(run_events(events_args), failure_status);
    if (*sql) {
      if (sql_args.query.find_first_not_of(" \t\r\n;") == std::string::npos) throw UsageError("the SQL query is empty; give one or more statements");
      return check_output(run_sql(sql_args), failure_status);
    }
  } catch (const UsageError& e) {
    print_error(e.what());
    return kExitUsage;
  } catch (const LaunchError& e) {
    print_error(e.what());
    return e.exit_status();
  } catch (const Error& e) {
    print_error(e.what());
    return failure_status;
  } catch (const InternalError& e) {
    print_error(fmt::format("internal error: {}; please report it", e.what()));
    return failure_status;
  }
  return kExitUsage;
}

}  // namespace ttdb
