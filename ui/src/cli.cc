// Parses the command line (CLI11) and runs the chosen command. This is the
// only place that catches ttdb::Error and prints it.
#include "ttdb/ui/cli.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <string_view>

#include "commands.h"
#include "ttdb/base/error.h"
#include "ttdb/tracer/launcher.h"

namespace ttdb {
namespace {

constexpr const char* kDescription =
    "ttdb: a time-travel debugger for Linux programs.\n"
    "Record a program once, then replay that exact execution as often as you like.";

void print_error(const std::string& message) { std::fprintf(stderr, "ttdb: %s\n", message.c_str()); }

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app(kDescription, "ttdb");
  app.require_subcommand(1);
  app.set_version_flag("--version", "ttdb " TTDB_VERSION);
  app.footer("Run 'ttdb COMMAND --help' for a command's options; docs/commands.md has examples.\n");

  RecordArgs record_args;
  auto* record = app.add_subcommand("record", "Run PROG under the recorder and write a trace");
  record->add_option("-o,--output", record_args.output, "Write the trace to TRACE (default: a new file in the trace directory)")
      ->option_text("TRACE");
  record->add_flag("-q,--quiet", record_args.quiet, "Do not print where the trace went");
  record->add_flag("-n,--no-syscall-buffer", record_args.no_syscall_buffer,
                   "Stop at every syscall instead of recording the frequent ones inside the program (slower)");
  record->add_option("PROG", record_args.command,
                     "The program to record and its arguments; put -- before PROG when it begins with -")
      ->option_text(" ");
  record->footer("Example: ttdb record -o ls.ttdb -- ls -la /usr/share/doc\n");

  ReplayArgs replay_args;
  auto* replay = app.add_subcommand("replay", "Replay a recording");
  replay->add_flag("--run", replay_args.run, "Replay to the end without a shell, re-emitting the program's output");
  replay->add_option("trace", replay_args.trace, "The trace (default: the latest recording)")->option_text("TRACE");
  std::vector<std::string> script_files, script_commands;
  replay->add_option("-x,--command", script_files, "Run the shell commands in FILE, then exit (repeatable)")
      ->option_text("FILE")
      ->allow_extra_args(false);
  replay->add_option("--ex,--eval-command", script_commands, "Run shell command CMD, then exit (repeatable; gdb's -ex)")
      ->option_text("CMD")
      ->allow_extra_args(false);
  replay->add_option("--junit", replay_args.junit, "With -x/-ex: write the asserts' results to FILE as JUnit XML")
      ->option_text("FILE");
  replay->add_option("--checkpoints", replay_args.checkpoint_budget, "Keep at most N automatic checkpoints (default 1024)")
      ->option_text("N")
      ->check(CLI::PositiveNumber);
  replay->add_option("--checkpoint-memory", replay_args.checkpoint_memory_mib,
                     "Keep the checkpoints' private memory under MIB mebibytes (default 1024)")
      ->option_text("MIB")
      ->check(CLI::PositiveNumber);
  replay->add_option("--checkpoint-interval", replay_args.checkpoint_interval_ms,
                     "Take an automatic checkpoint after MS milliseconds of replay (default 20; 0: at every stop)")
      ->option_text("MS")
      ->check(CLI::NonNegativeNumber);
  replay->footer(
      "Without --run, opens the shell at the program's first instruction.\n"
      "Examples: ttdb replay --run ls.ttdb\n"
      "          ttdb replay -ex 'break main' -ex continue -ex 'print argc' ls.ttdb\n");

  InfoArgs info_args;
  auto* info = app.add_subcommand("info", "Describe a recording");
  info->add_option("trace", info_args.trace, "The trace (default: the latest recording)")->option_text("TRACE");

  EventsArgs events_args;
  auto* events = app.add_subcommand("events", "List a recording's events, syscalls as strace shows them");
  events->add_option("trace", events_args.trace, "The trace (default: the latest recording)")->option_text("TRACE");
  events->add_option("--syscall", events_args.syscall, "Only this syscall's events")->option_text("NAME");
  events->add_option("--from", events_args.from, "Start at event N")->option_text("N")->check(CLI::PositiveNumber);
  events->add_option("--limit", events_args.limit, "Show at most N events")->option_text("N")->check(CLI::NonNegativeNumber);

  SqlArgs sql_args;
  auto* sql = app.add_subcommand("sql", "Query a recording with SQL, one row per event");
  sql->add_option("query", sql_args.query, "SQL statements; tables events, mem, syscalls (see docs/trace-format.md)")
      ->option_text("QUERY")
      ->required();
  sql->add_option("trace", sql_args.trace, "The trace (default: the latest recording)")->option_text("TRACE");
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
      split += arg == "-o" || arg == "--output" ? 2 : 1;
    }
    argc = std::min(split, argc);
  }

  // gdb spells -ex with one dash; CLI11 wants two. Keep the order of -x and
  // -ex as given: scripts run in that order.
  std::vector<std::string> replay_argv;
  if (argc >= 2 && std::string_view(argv[1]) == "replay") {
    for (int i = 0; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "-ex") arg = "--ex";
      bool file = arg == "-x" || arg == "--command", command_option = arg == "--ex" || arg == "--eval-command";
      if ((file || command_option) && i + 1 < argc) replay_args.script.emplace_back(file, argv[i + 1]);
      replay_argv.push_back(arg);
    }
  }
  std::vector<char*> replay_argv_pointers;
  for (auto& a : replay_argv) replay_argv_pointers.push_back(a.data());
  if (!replay_argv.empty()) argv = replay_argv_pointers.data();

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
  int failure_status = *info || *events || *sql ? 1 : kExitFailure;
  try {
    if (*record) {
      record_args.command = command;
      if (record_args.command.empty()) throw UsageError("record needs a program to run: ttdb record [OPTIONS] [--] PROG [ARGS...]");
      return run_record(record_args);
    }
    if (*replay) return run_replay(replay_args);
    if (*info) return run_info(info_args);
    if (*events) return run_events(events_args);
    if (*sql) return run_sql(sql_args);
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
