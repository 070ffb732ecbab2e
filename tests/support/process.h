// Running programs from tests: ttdb itself, the test programs, real tools.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace ttdb::test {

struct RunResult {
  int status = -1;  // the exit status, or 128 + the signal that killed it
  std::string out;
  std::string err;
};

struct RunOptions {
  std::string stdin_data;
  std::string stdin_file;                // used instead of stdin_data when set
  std::vector<std::string> extra_env;    // NAME=value
  std::chrono::seconds timeout{120};     // killed after this long
};

// A process whose stdout and stderr the test collects.
class Child {
 public:
  static Child spawn(const std::vector<std::string>& argv, const RunOptions& options = {});
  Child(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  pid_t pid() const { return pid_; }
  // Reads stdout until `text` has appeared (or the timeout passes); true if it did.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout);
  void signal(int sig);
  // Standard output collected so far.
  const std::string& output() const { return result_.out; }
  RunResult wait();

 private:
  Child() = default;
  void pump(int timeout_ms);

  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  RunResult result_;
  std::chrono::steady_clock::time_point deadline_;
};

RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

}  // namespace ttdb::test
