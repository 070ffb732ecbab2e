// go-live: the process looked at runs on live from here (Engine::go_live),
// on the terminal, and ttdb waits for it and exits with its status.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "shell.h"
#include "shell_internal.h"
#include "ttdb/base/parse.h"

namespace ttdb {

void Shell::cmd_go_live(const std::string& args) {
  GoLiveOptions options;
  auto w = words(args);
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (w[i] == "--null-all") {
      options.null_all = true;
    } else if (w[i] == "--null" && i + 1 < w.size()) {
      options.null_fds.insert(parse_number(w[++i], "the descriptor number"));
    } else if (w[i] == "--record" && i + 1 < w.size()) {
      options.record_to = w[++i];
    } else {
      throw Error(fmt::format("go-live takes --null FD, --null-all and --record TRACE, not \"{}\"", w[i]));
    }
  }
  std::int64_t event = engine_.event();
  // The live process gets the terminal, where it may read and be stopped by
  // Ctrl-C; ttdb takes it back when the process ends (wait_for_live). What
  // ttdb says comes first: the process prints as soon as it runs.
  options.handing_over = [this, event, &options](int pid, const std::vector<int>& left_behind) {
    if (::isatty(STDIN_FILENO) && ::tcgetpgrp(STDIN_FILENO) == ::getpgrp()) ::tcsetpgrp(STDIN_FILENO, ::getpgid(pid));
    out_ << fmt::format("Process {} runs on live from event {}{}; ttdb exits with its status when it ends.\n", pid, event,
                        options.record_to.empty() ? "" : fmt::format(", recorded into {}", options.record_to));
    // The live process's waits for them, or signals to them, find none.
    if (!left_behind.empty())
      out_ << fmt::format("The recording's other {} ({}) {} behind, stopped: the live process cannot wait for {}.\n",
                          left_behind.size() == 1 ? "process" : "processes", fmt::join(left_behind, ", "),
                          left_behind.size() == 1 ? "stays" : "stay", left_behind.size() == 1 ? "it" : "them");
    out_.flush();
  };
  GoLiveResult live = engine_.go_live(options);
  quit_ = true;
  if (!live.recording) {
    live_pid_ = live.pid;
    return;
  }
  // Recorded on: the process has ended.
  take_terminal_back();
  const RecordOutcome& outcome = *live.recording;
  if (!outcome.finished) {
    out_ << fmt::format("ttdb: recording stopped: {}; the trace up to event {} is in {}\n", outcome.stop_reason,
                        outcome.events, options.record_to);
    live_status_ = 1;
    return;
  }
  out_ << fmt::format("ttdb: trace of {} events (events 1 to {} from the recording, then the live run's) written to {}\n",
                      outcome.events, event, options.record_to);
  live_status_ = outcome.status.shell_status();
}

void take_terminal_back() {
  if (!::isatty(STDIN_FILENO) || ::tcgetpgrp(STDIN_FILENO) == ::getpgrp()) return;
  // From the background, taking the terminal back would stop ttdb (SIGTTOU).
  sigset_t ttou, old;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  ::sigprocmask(SIG_BLOCK, &ttou, &old);
  ::tcsetpgrp(STDIN_FILENO, ::getpgrp());
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
}

int wait_for_live(int pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  take_terminal_back();
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace ttdb
