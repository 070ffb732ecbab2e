#include "ttdb/tracer/wait_status.h"

#include <fmt/format.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

namespace ttdb {

WaitStatus WaitStatus::decode(int raw) {
  WaitStatus s;
  s.raw_ = raw;
  if (WIFEXITED(raw)) {
    s.kind_ = Kind::exited;
    s.code_ = WEXITSTATUS(raw);
  } else if (WIFSIGNALED(raw)) {
    s.kind_ = Kind::killed;
    s.code_ = WTERMSIG(raw);
    s.core_ = WCOREDUMP(raw);
  } else if (WIFSTOPPED(raw)) {
    int sig = WSTOPSIG(raw);
    int event = (raw >> 16) & 0xff;
    s.code_ = sig & 0x7f;
    if (sig == (SIGTRAP | 0x80)) {
      s.kind_ = Kind::syscall_stop;
    } else if (event == PTRACE_EVENT_STOP &&
               (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)) {
      s.kind_ = Kind::group_stop;
    } else if (event != 0) {
      s.kind_ = Kind::event_stop;
      s.event_ = event;
    } else {
      s.kind_ = Kind::signal_stop;
    }
  }
  return s;
}

int WaitStatus::shell_status() const {
  if (kind_ == Kind::exited) return code_;
  return 128 + code_;
}

std::string WaitStatus::describe() const {
  switch (kind_) {
    case Kind::exited: return fmt::format("exited with status {}", code_);
    case Kind::killed:
      return fmt::format("killed by {}{}", signal_name(code_), core_ ? " (core dumped)" : "");
    case Kind::syscall_stop: return "stopped at a syscall";
    case Kind::signal_stop: return fmt::format("stopped by {}", signal_name(code_));
    case Kind::group_stop: return fmt::format("job-control stop by {}", signal_name(code_));
    case Kind::event_stop: return fmt::format("stopped at ptrace event {}", event_);
    case Kind::not_resumed: return "not resumed";
  }
  return "?";
}

std::string signal_name(int sig) {
  if (const char* abbrev = sigabbrev_np(sig)) return fmt::format("SIG{}", abbrev);
  if (sig >= SIGRTMIN && sig <= SIGRTMAX) return fmt::format("SIGRT_{}", sig - SIGRTMIN);
  return fmt::format("signal {}", sig);
}

}  // namespace ttdb
