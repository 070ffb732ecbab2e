#include "ttdb/tracer/launcher.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <string_view>

#include "ttdb/base/log.h"
#include "ttdb/tracer/ptrace.h"
#include "ttdb/tracer/syscall_buffer.h"

namespace ttdb {
namespace {

[[noreturn]] void not_runnable(const std::string& command, int error) {
  int status = error == ENOENT || error == ENOTDIR ? 127 : 126;
  std::string why = error == ENOENT ? "no such file or directory" : errno_text(error);
  if (error == EISDIR) why = "it is a directory";
  if (error == EACCES) why = "permission denied (is it executable?)";
  throw LaunchError(fmt::format("cannot run {}: {}", command, why), status);
}

// Checks one candidate path; returns 0 when it is a runnable regular file.
int check_runnable(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return errno;
  if (S_ISDIR(st.st_mode)) return EISDIR;
  if (!S_ISREG(st.st_mode)) return EACCES;
  if (::access(path.c_str(), X_OK) != 0) return errno;
  return 0;
}

std::string absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char* cwd = ::getcwd(nullptr, 0);
  std::string out = std::string(cwd ? cwd : ".") + "/" + path;
  std::free(cwd);
  return out;
}

// Runs in the child, which shares ttdb's memory (start_child): only
// async-signal-safe calls until execve, none that acts on "the calling
// thread" through glibc's thread data, which is ttdb's main thread's.
[[noreturn]] void child_exec(const LaunchOptions& options, char* const* argv, char* const* envp,
                             int error_fd) {
  if (options.cpu >= 0) pin_to_cpu(options.cpu);
  if (options.own_process_group) ::setpgid(0, 0);
  if (options.ignored_signals)
    for (int sig = 1; sig < 65; ++sig) {
      if (sig == SIGKILL || sig == SIGSTOP) continue;
      struct sigaction action {};
      action.sa_handler = (*options.ignored_signals >> (sig - 1)) & 1 ? SIG_IGN : SIG_DFL;
      ::sigaction(sig, &action, nullptr);
    }
  if (options.blocked_signals) {
    // The kernel's sigset_t: 64 bits, one per signal.
    std::uint64_t mask = *options.blocked_signals;
    ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, nullptr, sizeof mask);
  }
  // Before the personality: a set-user-ID exec would clear ADDR_NO_RANDOMIZE.
  if (options.no_new_privs) ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  ::personality(ADDR_NO_RANDOMIZE);
  // rdtsc and rdtscp fault, so the tracer can record and replay their values.
  if (options.trap_tsc) ::prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0);
  if (options.stack_limit) {
    struct rlimit limit;
    ::getrlimit(RLIMIT_STACK, &limit);
    limit.rlim_cur = *options.stack_limit;
    ::setrlimit(RLIMIT_STACK, &limit);
  }
  // Wait here until the tracer has seized us. (Not raise(), which signals
  // the thread glibc's thread data names.)
  ::syscall(SYS_kill, ::syscall(SYS_getpid), SIGSTOP);
  // Only now: with no tracer, the filter would fail every syscall it traces.
  if (options.syscall_buffer && !install_shim_filter(options.shim)) {
    int error = -errno;
    [[maybe_unused]] auto n = ::write(error_fd, &error, sizeof error);
    ::_exit(127);
  }
  ::execve((options.exec_path.empty() ? options.path : options.exec_path).c_str(), argv, envp);
  int error = errno;
  [[maybe_unused]] auto n = ::write(error_fd, &error, sizeof error);
  ::_exit(127);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
constexpr bool kSanitized = __has_feature(address_sanitizer) || __has_feature(thread_sanitizer);
#else
constexpr bool kSanitized = false;
#endif

struct ChildStart {
  const LaunchOptions* options;
  char* const* argv;
  char* const* envp;
  int error_fd;
};

// The child's stack while it shares ttdb's memory, unmapped by whoever
// holds it last.
class ChildStack {
 public:
  static constexpr std::size_t kSize = 64 << 10;
  ChildStack() {
    void* at = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (at != MAP_FAILED) base_ = static_cast<char*>(at);
  }
  ~ChildStack() {
    if (base_) ::munmap(base_, kSize);
  }
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;
  char* top() const { return base_ ? base_ + kSize : nullptr; }

 private:
  char* base_ = nullptr;
};

// Starts the child that becomes the program. It shares ttdb's memory until
// its execve (CLONE_VM, as posix_spawn's child does), on a stack of its
// own, which must outlive that: a fork copied ttdb's page tables and made
// every page ttdb or the child then wrote a copy, each telling the CPU
// ttdb's writer runs on to forget the old mapping (0.4 ms of every
// recording). The sanitizers' runtimes keep per-thread state that the
// child would share with ttdb's main thread: their builds fork.
pid_t start_child(ChildStart& start, const ChildStack& stack) {
  if (!kSanitized && stack.top()) {
    auto run = [](void* arg) -> int {
      auto* s = static_cast<ChildStart*>(arg);
      child_exec(*s->options, s->argv, s->envp, s->error_fd);
    };
    return ::clone(run, stack.top(), CLONE_VM | SIGCHLD, &start);
  }
  pid_t pid = ::fork();
  if (pid == 0) child_exec(*start.options, start.argv, start.envp, start.error_fd);
  return pid;
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::optional<SignalState> signal_state(pid_t pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  SignalState state;
  int found = 0;
  while (std::getline(status, line)) {
    auto field = [&](const char* name, std::uint64_t& out) {
      if (!line.starts_with(name)) return;
      out = std::stoull(line.substr(std::strlen(name)), nullptr, 16);
      ++found;
    };
    field("SigIgn:", state.ignored);
    field("SigBlk:", state.blocked);
    field("SigCgt:", state.caught);
  }
  if (found != 3) return std::nullopt;
  return state;
}

long tracee_options(bool syscall_buffer) {
  long options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE |
                 PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;
  return syscall_buffer ? options | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEEXIT : options;
}

bool pin_to_cpu(int cpu) {
  if (cpu < 0) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return ::sched_setaffinity(0, sizeof set, &set) == 0;
}

namespace {

// Every CPU the machine has but `cpu` (the caller may be pinned already);
// false when there is no other.
bool cpus_but(int cpu, cpu_set_t& set) {
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 2 || cpu < 0) return false;
  CPU_ZERO(&set);
  for (long i = 0; i < std::min<long>(cpus, CPU_SETSIZE); ++i)
    if (i != cpu) CPU_SET(static_cast<int>(i), &set);
  return true;
}

}  // namespace

void keep_off_cpu(std::thread& thread, int cpu) {
  cpu_set_t set;
  if (cpus_but(cpu, set)) ::pthread_setaffinity_np(thread.native_handle(), sizeof set, &set);
}

void leave_cpu(int cpu) {
  cpu_set_t set;
  if (cpus_but(cpu, set)) ::sched_setaffinity(0, sizeof set, &set);
}

int pinning_cpu() {
  // A knob for measuring what pinning buys (bench/README.md).
  if (const char* no = std::getenv("TTDB_NO_PIN"); no && *no && std::string_view(no) != "0") return -1;
  int cpu = ::sched_getcpu();
  return cpu < 0 ? 0 : cpu;
}

std::string resolve_program(const std::string& command) {
  if (command.empty()) throw LaunchError("cannot run an empty program name", 127);
  if (command.find('/') != std::string::npos) {
    if (int error = check_runnable(command)) not_runnable(command, error);
    return absolute(command);
  }
  const char* path_var = std::getenv("PATH");
  std::string search = path_var ? path_var : "/usr/local/bin:/usr/bin:/bin";
  int first_error = ENOENT;
  std::size_t start = 0;
  while (start <= search.size()) {
    std::size_t end = search.find(':', start);
    if (end == std::string::npos) end = search.size();
    std::string dir = search.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + command;
    int error = check_runnable(candidate);
    if (error == 0) return absolute(candidate);
    if (error != ENOENT && error != ENOTDIR && first_error == ENOENT) first_error = error;
    start = end + 1;
  }
  if (first_error == ENOENT)
    throw LaunchError(fmt::format("cannot run {}: command not found in PATH", command), 127);
  not_runnable(command, first_error);
}

Tracee launch(const LaunchOptions& options) {
  Pipe errors = Pipe::create(O_CLOEXEC);
  std::vector<char*> argv = c_strings(options.argv);
  std::vector<char*> envp = c_strings(options.env);

  // The child keeps the pipe's write end, which closes at its exec, and
  // needs nothing of the read end, which is close-on-exec too.
  ChildStack stack;
  ChildStart start{&options, argv.data(), envp.data(), errors.write_end.get()};
  pid_t pid = start_child(start, stack);
  if (pid < 0) fail("cannot start {}: fork failed: {}", options.path, errno_text(errno));
  errors.write_end.reset();

  int raw = 0;
  while (::waitpid(pid, &raw, WSTOPPED) < 0 && errno == EINTR) {
  }
  if (!WIFSTOPPED(raw)) fail("cannot start {}: the child died before exec", options.path);
  if (::ptrace(PTRACE_SEIZE, pid, nullptr, tracee_options(options.syscall_buffer)) != 0) {
    int error = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &raw, 0);
    fail("cannot trace {}: ptrace failed: {}{}", options.path, errno_text(error),
         error == EPERM ? "; check kernel.yama.ptrace_scope and that ttdb is not itself traced" : "");
  }
  Tracee tracee(pid);
  ::kill(pid, SIGCONT);
  // Let the child run to its exec without stopping at its syscalls.
  for (;;) {
    WaitStatus status = tracee.wait();
    if (status.is_event(PTRACE_EVENT_EXEC)) break;
    if (status.is_exit()) {
      int error = 0;
      if (::read(errors.read_end.get(), &error, sizeof error) == sizeof error) {
        if (error < 0)
          fail("cannot record {}: the kernel refused ttdb's seccomp filter ({}); record with --no-syscall-buffer",
               options.path, errno_text(-error));
        not_runnable(options.path, error);
      }
      fail("cannot start {}: it {} before exec", options.path, status.describe());
    }
    tracee.resume(Resume::cont, 0);
  }
  tracee.reopen_memory();
  return tracee;
}

}  // namespace ttdb
