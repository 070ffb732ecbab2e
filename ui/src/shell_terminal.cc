// The shell's two faces: a readline prompt on a terminal, and scripts
// (-x FILE, -ex CMD) that run with no terminal and report their asserts.
#include <readline/history.h>
#include <readline/readline.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>

#include "commands.h"
#include "shell.h"
#include "trace_paths.h"

namespace ttdb {
namespace {

constexpr int kScriptFailed = 1;
constexpr int kScriptBroken = 2;

Shell* g_shell = nullptr;
// Where a Ctrl-C finds the shell: running a command (it interrupts it),
// at readline's prompt (readline clears the line), or waiting for a line
// of piped commands (as gdb, it says "Quit" and reads on).
enum Waiting : int { running, at_prompt, reading_lines };
volatile std::sig_atomic_t g_waiting = running;

void on_interrupt(int) {
  if (g_waiting == reading_lines) {
    static const char quit[] = "Quit\n";
    if (::write(STDOUT_FILENO, quit, sizeof quit - 1) < 0) {
    }
    return;
  }
  if (g_waiting == at_prompt) return;
  if (g_shell) g_shell->interrupt();
}

std::string history_path() {
  if (const char* explicit_path = std::getenv("TTDB_HISTORY")) return explicit_path;
  return (std::filesystem::path(default_trace_dir()) / "shell_history").string();
}

std::vector<std::string> g_matches;

char* next_match(const char*, int state) {
  static std::size_t index;
  if (state == 0) index = 0;
  if (index >= g_matches.size()) return nullptr;
  return strdup(g_matches[index++].c_str());
}

char** complete(const char* text, int start, int) {
  rl_attempted_completion_over = 1;
  if (!g_shell) return nullptr;
  try {
    g_matches = g_shell->complete(std::string(rl_line_buffer, static_cast<std::size_t>(start)), text);
  } catch (const Error&) {
    g_matches.clear();
  }
  return rl_completion_matches(text, next_match);
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') out += fmt::format("&#{};", static_cast<int>(c));
        else out += c;
    }
  }
  return out;
}

void write_junit(const std::string& path, const std::string& suite, const std::vector<AssertOutcome>& asserts,
                 const std::string& script_error) {
  std::size_t failures = 0;
  for (const auto& a : asserts) failures += !a.passed;
  std::size_t tests = asserts.size() + (script_error.empty() ? 0 : 1);
  std::ofstream out(path);
  if (!out) throw Error(fmt::format("cannot write the JUnit report {}; check the directory exists and is writable", path));
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << fmt::format("<testsuites tests=\"{}\" failures=\"{}\" errors=\"{}\">\n", tests, failures, script_error.empty() ? 0 : 1);
  out << fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n", xml_escape(suite), tests, failures,
                     script_error.empty() ? 0 : 1);
  for (const auto& a : asserts) {
    std::string name = a.message.empty() ? a.expression : a.message;
    out << fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\">", xml_escape(suite), xml_escape(name), a.seconds);
    std::string operands;
    for (const auto& [text, value] : a.operands) operands += fmt::format("{}{} = {}", operands.empty() ? ": " : ", ", text, value);
    if (!a.passed)
      out << fmt::format("\n      <failure message=\"{} is {}{}\">assert {} failed: value {}{} at event {}, {}</failure>\n    ",
                         xml_escape(a.expression), xml_escape(a.value), xml_escape(operands), xml_escape(a.expression),
                         xml_escape(a.value), xml_escape(operands), a.event, xml_escape(a.where));
    out << "</testcase>\n";
  }
  if (!script_error.empty())
    out << fmt::format("    <testcase classname=\"{}\" name=\"script\">\n      <error message=\"{}\"/>\n    </testcase>\n",
                       xml_escape(suite), xml_escape(script_error));
  out << "  </testsuite>\n</testsuites>\n";
  if (!out.flush()) throw Error(fmt::format("cannot write the JUnit report {}: the disk may be full", path));
}

// One line of `in`, without its newline. Input that is not a terminal may be
// anything: a line stops at kMaxLine bytes, and the rest of it is left unread.
constexpr std::size_t kMaxLine = 64 * 1024;
enum class Line { read, too_long, end };
Line read_line(std::istream& in, std::string& line) {
  line.clear();
  for (char c; in.get(c);) {
    if (c == '\n') return Line::read;
    if (line.size() == kMaxLine) return Line::too_long;
    line.push_back(c);
  }
  return line.empty() ? Line::end : Line::read;
}

// A script is a file of commands, or a pipe (-x <(...)): not a directory,
// which reads as no commands at all, nor a device such as /dev/zero, which
// reads for ever. Checked before the replay starts.
constexpr std::uintmax_t kMaxScript = 16 << 20;
void check_script_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;  // reading it says why
  if (S_ISDIR(st.st_mode)) throw UsageError(fmt::format("the script {} is a directory; give -x a file of shell commands", path));
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
    throw UsageError(fmt::format("the script {} is not a regular file; give -x a file of shell commands", path));
  if (static_cast<std::uintmax_t>(st.st_size) > kMaxScript)
    throw UsageError(fmt::format("the script {} is larger than {} MiB; give -x a file of shell commands", path, kMaxScript >> 20));
}

// Runs -x files and -ex commands in order; stops at the first command that fails.
// The progress line of the replay under the shell, once there is one.
ProgressLine* g_progress = nullptr;

// A command, and then no progress line left under the shell's prompt.
bool run_command(Shell& shell, const std::string& line) {
  bool done = shell.execute(line);
  if (g_progress) g_progress->erase();
  return done;
}

int run_script(Shell& shell, const ReplayArgs& args, const std::string& trace) {
  std::string error;
  for (const auto& [is_file, text] : args.script) {
    if (!is_file) {
      if (!run_command(shell, text)) {
        error = fmt::format("-ex '{}' failed: {}", text, shell.last_error());
        break;
      }
      if (shell.quit_requested()) break;
      continue;
    }
    std::ifstream in(text);
    if (!in) {
      std::cerr << fmt::format("ttdb: cannot read the script {}; check the path\n", text);
      error = "cannot read " + text;
      break;
    }
    int number = 0;
    std::uintmax_t size = 0;
    std::string line;
    for (Line kind; (kind = read_line(in, line)) != Line::end;) {
      ++number;
      if (kind == Line::too_long || (size += line.size() + 1) > kMaxScript) {
        error = fmt::format("{}:{}: {}", text, number, kind == Line::too_long ? "the line is longer than 64 KiB" : "the script is larger than 16 MiB");
        std::cerr << fmt::format("ttdb: {}; give -x a file of shell commands\n", error);
        break;
      }
      if (!run_command(shell, line)) {
        error = fmt::format("{}:{}: the command '{}' failed", text, number, line);
        std::cerr << fmt::format("ttdb: {}; the script stops here\n", error);
        error += ": " + shell.last_error();  // why, in the report
        break;
      }
      if (shell.quit_requested()) break;
    }
    if (error.empty() && shell.inside_block()) {
      error = fmt::format("{}:{}: the script ends inside a block: a line saying \"end\" is missing", text, number);
      std::cerr << fmt::format("ttdb: {}\n", error);
    }
    if (!error.empty() || shell.quit_requested()) break;
  }
  if (!args.junit.empty()) write_junit(args.junit, std::filesystem::path(trace).filename().string(), shell.asserts(), error);
  if (!error.empty()) return kScriptBroken;
  for (const auto& a : shell.asserts())
    if (!a.passed) return kScriptFailed;
  return 0;
}


// Commands piped in, one a line: no readline, no prompt, no key bindings and
// no history file; every line is a command, and the end of input ends the shell.
int run_lines(Shell& shell) {
  std::string line;
  for (;;) {
    g_waiting = reading_lines;
    Line kind = read_line(std::cin, line);
    g_waiting = running;
    if (kind == Line::end) break;
    if (kind == Line::too_long) {
      std::cerr << fmt::format("A command line longer than {} KiB was skipped.\n", kMaxLine / 1024);
      std::cin.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
      continue;
    }
    run_command(shell, line);
    if (shell.quit_requested()) break;
  }
  return 0;
}

int run_interactive(Shell& shell) {
  if (!::isatty(STDIN_FILENO)) return run_lines(shell);
  std::string history = history_path();
  std::filesystem::create_directories(std::filesystem::path(history).parent_path());
  using_history();
  read_history(history.c_str());
  rl_attempted_completion_function = complete;
  rl_readline_name = "ttdb";
  std::string last;
  for (;;) {
    g_waiting = at_prompt;
    char* raw = readline("(ttdb) ");
    g_waiting = running;
    if (!raw) {
      std::cout << "quit\n";
      break;
    }
    std::string line = raw;
    std::free(raw);
    if (line.find_first_not_of(" \t") == std::string::npos) {
      // An empty line repeats a motion or a listing, as in gdb.
      static const char* const repeatable[] = {"s", "n", "si", "ni", "step", "next", "stepi", "nexti", "c", "continue",
                                               "rs", "rn", "rsi", "rni", "rc", "reverse-step", "reverse-next",
                                               "reverse-stepi", "reverse-nexti", "reverse-continue", "list", "l", "x"};
      std::string first = last.substr(0, last.find_first_of(" /"));
      if (std::find(std::begin(repeatable), std::end(repeatable), first) == std::end(repeatable)) continue;
      line = first == "list" || first == "l" ? "list" : first == "x" ? "x" : last;
    } else {
      add_history(line.c_str());
      last = line;
    }
    run_command(shell, line);
    if (shell.quit_requested()) break;
  }
  write_history(history.c_str());
  history_truncate_file(history.c_str(), 1000);
  return 0;
}

}  // namespace

int run_shell(const ReplayArgs& args) {
  bool scripted = !args.script.empty();
  for (const auto& [is_file, text] : args.script)
    if (is_file) check_script_file(text);
  std::string path;
  std::unique_ptr<Engine> engine;
  FdSink sink;
  try {
    path = trace_or_latest(args.trace);
    EngineOptions options;
    options.checkpoint_budget = args.checkpoint_budget;
    options.checkpoint_memory_mib = args.checkpoint_memory_mib;
    options.checkpoint_every = std::chrono::milliseconds(args.checkpoint_interval_ms);
    engine = std::make_unique<Engine>(path, sink, options);
  } catch (const Error& e) {
    if (!scripted) throw;
    std::cerr << "ttdb: " << e.what() << "\n";
    // CI reads the report: it says the replay could not start, and why.
    if (!args.junit.empty())
      write_junit(args.junit, path.empty() && args.trace.empty() ? "replay" : std::filesystem::path(path.empty() ? args.trace : path).filename().string(), {}, e.what());
    return kScriptBroken;
  }
  // The shell's output erases the progress line first. The program's own
  // output goes straight to fd 1: unitbuf keeps the order.
  ErasingBuf out_buf(sink.progress(), std::cout.rdbuf()), err_buf(sink.progress(), std::cerr.rdbuf());
  std::ostream out(&out_buf), err(&err_buf);
  out << std::unitbuf;
  err << std::unitbuf;
  Shell shell(*engine, out, err);
  g_progress = &sink.progress();
  g_shell = &shell;
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  // Piped commands: until the first is read, there is nothing to interrupt.
  if (!scripted && !::isatty(STDIN_FILENO)) g_waiting = reading_lines;
  sigaction(SIGINT, &action, nullptr);
  shell.announce();
  int status = scripted ? run_script(shell, args, path) : run_interactive(shell);
  if (auto live = shell.live_pid()) status = wait_for_live(*live);
  if (auto ended = shell.live_status()) status = *ended;
  g_shell = nullptr;
  g_progress = nullptr;
  return status;
}

}  // namespace ttdb
