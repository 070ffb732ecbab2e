// A waitpid() status decoded once, so that no caller pokes at raw bits.
#pragma once

#include <string>

namespace ttdb {

class WaitStatus {
 public:
  enum class Kind {
    exited,        // code() is the exit status
    killed,        // code() is the signal that killed it
    syscall_stop,  // a syscall entry or exit (PTRACE_O_TRACESYSGOOD)
    signal_stop,   // signal-delivery-stop: code() is the signal
    group_stop,    // a job-control stop: code() is the stopping signal
    event_stop,    // a PTRACE_EVENT_* stop: event() says which
    not_resumed,   // no stop happened: the program was not resumed at all
  };

  static WaitStatus decode(int raw);
  static WaitStatus not_resumed() {
    WaitStatus s;
    s.kind_ = Kind::not_resumed;
    return s;
  }

  Kind kind() const { return kind_; }
  int code() const { return code_; }
  int event() const { return event_; }
  bool core_dumped() const { return core_; }
  int raw() const { return raw_; }

  bool is_exit() const { return kind_ == Kind::exited || kind_ == Kind::killed; }
  bool is_syscall_stop() const { return kind_ == Kind::syscall_stop; }
  bool is_signal_stop() const { return kind_ == Kind::signal_stop; }
  bool is_event(int event) const { return kind_ == Kind::event_stop && event_ == event; }

  // The status a shell would report: the exit code, or 128 + the signal.
  int shell_status() const;
  std::string describe() const;

 private:
  Kind kind_ = Kind::exited;
  int code_ = 0;
  int event_ = 0;
  bool core_ = false;
  int raw_ = 0;
};

// "SIGSEGV" for 11; "signal 64" for one without a name.
std::string signal_name(int sig);

}  // namespace ttdb
