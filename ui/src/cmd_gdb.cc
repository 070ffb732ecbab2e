// ttdb replay --gdb: stock gdb on the recorded program, connected to a
// `ttdb serve` of the trace, as rr starts gdb by default.
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <filesystem>
#include <optional>
#include <vector>

#include "commands.h"
#include "ttdb/trace/format.h"
#include "ttdb/trace/pack.h"
#include "ttdb/trace/reader.h"

namespace ttdb {
namespace {

// A word for the shell that gdb's `target remote |` runs the server with.
std::string shell_quoted(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The program the recording started (the file of its first exec), when it
// is on disk as recorded: a rebuilt or deleted one gdb gets from the server
// (qXfer:exec-file), which gives it the trace's copy.
std::optional<std::string> recorded_program(const trace::TraceReader& reader) {
  for (const auto& file : reader.files()) {
    if (file.role != "exe") continue;
    if (!trace::content_as_recorded(file)) return std::nullopt;
    return file.path;
  }
  if (auto program = reader.meta(trace::meta::program)) return *program;
  throw Error(fmt::format("trace {} does not say which program it recorded", reader.path()));
}

std::string this_binary() {
  std::error_code error;
  auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) throw Error(fmt::format("cannot find ttdb's own binary ({}); is /proc mounted?", error.message()));
  return self.string();
}

}  // namespace

int run_gdb(const ReplayArgs& args) {
  std::string path = std::filesystem::absolute(trace_or_latest(args.trace)).string();
  auto program = recorded_program(trace::TraceReader(path));
  std::string server = shell_quoted(this_binary()) + " serve ";
  if (args.process) server += fmt::format("--process {} ", args.process);
  // The server reads the trace when gdb connects; the program's file only
  // gives gdb its symbols (the server says where the libraries came from).
  std::vector<std::string> argv{"gdb", "-q", "-ex", "target remote | " + server + shell_quoted(path)};
  argv.insert(argv.end(), args.gdb_args.begin(), args.gdb_args.end());
  // Another process may run another program: gdb then asks the server for
  // the process's own (qXfer:exec-file).
  if (!args.process && program) argv.push_back(*program);
  std::vector<char*> pointers;
  for (auto& arg : argv) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  ::execvp("gdb", pointers.data());
  throw Error(fmt::format("cannot run gdb ({}); install it (scripts/bootstrap does) or put it on the PATH", errno_text(errno)));
}

}  // namespace ttdb
