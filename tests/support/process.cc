#include "process.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <utility>

extern char** environ;

namespace ttdb::test {

Child Child::spawn(const std::vector<std::string>& argv, const RunOptions& options) {
  int out[2], err[2], in[2];
  if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(in, O_CLOEXEC))
    throw std::runtime_error("pipe failed");
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  // An extra NAME=value replaces the inherited NAME (getenv would find the first).
  for (const auto& extra : options.extra_env) {
    std::string name = extra.substr(0, extra.find('=') + 1);
    std::erase_if(env_strings, [&](const std::string& e) { return e.starts_with(name); });
    env_strings.push_back(extra);
  }
  std::vector<char*> args, env;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env_strings) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int stdin_fd = in[0];
    if (!options.stdin_file.empty()) stdin_fd = open(options.stdin_file.c_str(), O_RDONLY);
    dup2(stdin_fd, 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    // Only 0, 1 and 2: what the test runner leaves open must not shift fd numbers.
    close_range(3, ~0u, 0);
    execvpe(args[0], args.data(), env.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  close(in[0]);
  // Small inputs fit in the pipe; tests use stdin_file for big ones.
  if (!options.stdin_data.empty())
    if (write(in[1], options.stdin_data.data(), options.stdin_data.size()) < 0) {
    }
  close(in[1]);
  Child child;
  child.pid_ = pid;
  child.out_fd_ = out[0];
  child.err_fd_ = err[0];
  child.deadline_ = std::chrono::steady_clock::now() + options.timeout;
  return child;
}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      out_fd_(std::exchange(other.out_fd_, -1)),
      err_fd_(std::exchange(other.err_fd_, -1)),
      result_(std::move(other.result_)),
      deadline_(other.deadline_) {}

Child::~Child() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

void Child::pump(int timeout_ms) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (poll(fds, 2, timeout_ms) <= 0) return;
  char buffer[65536];
  for (int i = 0; i < 2; ++i) {
    if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
    ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
    if (n > 0) {
      (i == 0 ? result_.out : result_.err).append(buffer, static_cast<std::size_t>(n));
    } else {
      close(fds[i].fd);
      (i == 0 ? out_fd_ : err_fd_) = -1;
    }
  }
}

bool Child::wait_for_output(const std::string& text, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (result_.out.find(text) == std::string::npos) {
    if (out_fd_ < 0 || std::chrono::steady_clock::now() > until) return false;
    pump(50);
  }
  return true;
}

void Child::signal(int sig) { kill(pid_, sig); }

RunResult Child::wait() {
  while (out_fd_ >= 0 || err_fd_ >= 0) {
    if (std::chrono::steady_clock::now() > deadline_) {
      kill(pid_, SIGKILL);
      result_.err += "\n[test harness: killed after its timeout]\n";
      break;
    }
    pump(100);
  }
  int raw = 0;
  waitpid(pid_, &raw, 0);
  pid_ = -1;
  result_.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  return std::move(result_);
}

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
  return Child::spawn(argv, options).wait();
}

}  // namespace ttdb::test
