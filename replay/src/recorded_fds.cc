#include "recorded_fds.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstring>
#include <filesystem>

#include "ttdb/tracer/syscall_table.h"

namespace ttdb {
namespace {

// The descriptors a syscall makes that are not files reopened by path.
const char* other_kind(const std::string& name) {
  static const std::pair<const char*, const char*> kinds[] = {
      {"socket", "a socket"}, {"accept", "a socket"}, {"accept4", "a socket"}, {"eventfd", "an eventfd"},
      {"eventfd2", "an eventfd"}, {"epoll_create", "an epoll instance"}, {"epoll_create1", "an epoll instance"},
      {"signalfd", "a signalfd"}, {"signalfd4", "a signalfd"}, {"timerfd_create", "a timerfd"},
      {"inotify_init", "an inotify instance"}, {"inotify_init1", "an inotify instance"}, {"memfd_create", "a memfd"},
      {"userfaultfd", "a userfaultfd"}, {"pidfd_open", "a pidfd"}, {"fanotify_init", "a fanotify instance"},
      {"perf_event_open", "a perf event"}, {"io_uring_setup", "an io_uring"}, {"memfd_secret", "a memfd"},
  };
  for (const auto& [call, kind] : kinds)
    if (name == call) return kind;
  return nullptr;
}

// The two descriptors pipe() and socketpair() write to their array.
std::optional<std::pair<int, int>> written_pair(const trace::Event& e, std::uint64_t at) {
  for (const auto& w : e.mem)
    if (w.addr == at && w.data.size() >= 8) {
      int fds[2];
      std::memcpy(fds, w.data.data(), sizeof fds);
      return std::make_pair(fds[0], fds[1]);
    }
  return std::nullopt;
}

}  // namespace

RecordedFds::RecordedFds(std::string cwd) {
  Task first{std::make_shared<Table>(), std::make_shared<std::string>(std::move(cwd))};
  for (int fd = 0; fd <= 2; ++fd)
    (*first.fds)[fd] = Entry{std::make_shared<RecordedFd>(RecordedFd{RecordedFd::Kind::standard, "", 0, 0, fd}), false};
  tasks_[0] = std::move(first);  // claimed by the first event's task
}

RecordedFds::Task& RecordedFds::task(int tid) {
  if (auto found = tasks_.find(tid); found != tasks_.end()) return found->second;
  if (auto first = tasks_.find(0); first != tasks_.end()) {
    Task t = std::move(first->second);
    tasks_.erase(first);
    return tasks_[tid] = std::move(t);
  }
  return tasks_[tid] = Task{std::make_shared<Table>(), std::make_shared<std::string>("/")};
}

void RecordedFds::follow(const trace::Event& e) {
  Task& t = task(e.tid);
  if (e.kind == trace::EventKind::spawn) {
    auto flags = e.args[0];
    Task child;
    child.fds = flags & CLONE_FILES ? t.fds : std::make_shared<Table>(*t.fds);
    child.cwd = flags & CLONE_FS ? t.cwd : std::make_shared<std::string>(*t.cwd);
    // A thread shares its process's timers; a new process has none.
    if (flags & CLONE_THREAD) child.timers = t.timers;
    tasks_[static_cast<int>(e.nr)] = std::move(child);
  } else if (e.kind == trace::EventKind::exec) {
    std::erase_if(*t.fds, [](const auto& entry) { return entry.second.cloexec; });
  } else if (e.kind == trace::EventKind::syscall && e.ret && !is_error_result(*e.ret)) {
    follow_syscall(t, e);
    follow_timers(t, e);
  } else if (e.kind == trace::EventKind::signal) {
    follow_timers(t, e);
  }
}

void RecordedFds::follow_timers(Task& t, const trace::Event& e) {
  Timers& timers = *t.timers;
  auto set = [&](int which, const itimerval& value) {
    if (value.it_value.tv_sec || value.it_value.tv_usec) timers[which] = value;
    else timers.erase(which);
  };
  if (e.kind == trace::EventKind::signal) {
    // A timer without an interval fired once, and is disarmed.
    int which = e.nr == SIGALRM ? ITIMER_REAL : e.nr == SIGVTALRM ? ITIMER_VIRTUAL : e.nr == SIGPROF ? ITIMER_PROF : -1;
    auto found = timers.find(which);
    if (found != timers.end() && !found->second.it_interval.tv_sec && !found->second.it_interval.tv_usec) timers.erase(found);
    return;
  }
  std::string name = syscall_name(e.nr);
  if (name == "alarm") {
    itimerval value{};
    value.it_value.tv_sec = static_cast<time_t>(static_cast<unsigned>(e.args[0]));
    set(ITIMER_REAL, value);
  } else if (name == "setitimer" && e.args[0] <= ITIMER_PROF && e.preview.size() == sizeof(itimerval)) {
    // (Traces before this ttdb kept no new value: nothing is known then.)
    itimerval value;
    std::memcpy(&value, e.preview.data(), sizeof value);
    set(static_cast<int>(e.args[0]), value);
  }
}

std::map<int, itimerval> RecordedFds::timers(int tid) const {
  const Task* t = find(tid);
  return t ? *t->timers : std::map<int, itimerval>{};
}

std::string RecordedFds::absolute(const Task& t, long dirfd, const std::string& path) const {
  if (!path.empty() && path[0] == '/') return std::filesystem::path(path).lexically_normal().string();
  std::string base = *t.cwd;
  if (static_cast<int>(dirfd) != AT_FDCWD)
    if (auto found = t.fds->find(static_cast<int>(dirfd)); found != t.fds->end()) base = found->second.file->path;
  return (std::filesystem::path(base) / path).lexically_normal().string();
}

void RecordedFds::add(Task& t, int fd, RecordedFd file, bool cloexec) {
  (*t.fds)[fd] = Entry{std::make_shared<RecordedFd>(std::move(file)), cloexec};
}

void RecordedFds::follow_syscall(Task& t, const trace::Event& e) {
  std::string name = syscall_name(e.nr);
  Table& fds = *t.fds;
  std::int64_t result = *e.ret;
  auto ret = static_cast<int>(result);
  auto arg = [&](int i) { return static_cast<long>(e.args[static_cast<std::size_t>(i)]); };
  auto file_of = [&](long fd) -> RecordedFd* {
    auto found = fds.find(static_cast<int>(fd));
    return found == fds.end() ? nullptr : found->second.file.get();
  };
  auto duplicate = [&](long from, int to, bool cloexec) {
    if (auto found = fds.find(static_cast<int>(from)); found != fds.end()) fds[to] = Entry{found->second.file, cloexec};
  };
  auto opened = [&](long dirfd, int flags) {
    add(t, ret, RecordedFd{RecordedFd::Kind::file, absolute(t, dirfd, e.path.value_or("")), flags, 0, -1}, flags & O_CLOEXEC);
  };
  if (name == "open") opened(AT_FDCWD, static_cast<int>(arg(1)));
  else if (name == "openat") opened(arg(0), static_cast<int>(arg(2)));
  else if (name == "creat") opened(AT_FDCWD, O_CREAT | O_WRONLY | O_TRUNC);
  else if (name == "openat2") opened(arg(0), O_RDONLY);  // its flags are in a struct the event does not keep
  else if (name == "close") fds.erase(static_cast<int>(arg(0)));
  else if (name == "close_range") {
    for (auto it = fds.lower_bound(static_cast<int>(arg(0))); it != fds.end() && static_cast<unsigned>(it->first) <= static_cast<unsigned>(arg(1));)
      if (arg(2) & CLOSE_RANGE_CLOEXEC) (it++)->second.cloexec = true;
      else it = fds.erase(it);
  } else if (name == "dup") duplicate(arg(0), ret, false);
  else if (name == "dup2") duplicate(arg(0), static_cast<int>(arg(1)), false);
  else if (name == "dup3") duplicate(arg(0), static_cast<int>(arg(1)), arg(2) & O_CLOEXEC);
  else if (name == "fcntl") {
    long cmd = arg(1);
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) duplicate(arg(0), ret, cmd == F_DUPFD_CLOEXEC);
    else if (cmd == F_SETFD) {
      if (auto found = fds.find(static_cast<int>(arg(0))); found != fds.end()) found->second.cloexec = arg(2) & FD_CLOEXEC;
    } else if (cmd == F_SETFL) {
      constexpr int changeable = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
      if (auto* f = file_of(arg(0))) f->flags = (f->flags & ~changeable) | (static_cast<int>(arg(2)) & changeable);
    }
  } else if (name == "read" || name == "write" || name == "readv" || name == "writev") {
    if (auto* f = file_of(arg(0)); f && f->kind == RecordedFd::Kind::file) f->offset += result;
    else if (f && f->kind == RecordedFd::Kind::pipe) unread_[f->pipe] += name[0] == 'w' ? result : -result;
  } else if (name == "sendfile" || name == "copy_file_range" || name == "splice") {
    // (out, in, offset pointer, ...) for sendfile; (in, its offset pointer,
    // out, its offset pointer, ...) for the others: a descriptor without a
    // pointer moves on.
    bool send = name == "sendfile";
    long in = send ? arg(1) : arg(0), out = send ? arg(0) : arg(2);
    bool in_moves = send ? arg(2) == 0 : arg(1) == 0, out_moves = send || arg(3) == 0;
    if (auto* f = file_of(in); f && in_moves && f->kind == RecordedFd::Kind::file) f->offset += result;
    if (auto* f = file_of(out); f && out_moves && f->kind == RecordedFd::Kind::file) f->offset += result;
  } else if (name == "preadv2" || name == "pwritev2") {
    // An offset of -1: the descriptor's own, which moves.
    if (auto* f = file_of(arg(0)); f && static_cast<std::int64_t>(e.args[3]) == -1 && f->kind == RecordedFd::Kind::file)
      f->offset += result;
  } else if (name == "lseek") {
    if (auto* f = file_of(arg(0))) f->offset = result;
  } else if (name == "pipe" || name == "pipe2" || name == "socketpair") {
    bool pipe = name != "socketpair";
    auto pair = written_pair(e, e.args[pipe ? 0 : 3]);
    int flags = static_cast<int>(arg(1));  // pipe2's flags, socketpair's type
    bool cloexec = pipe ? (name == "pipe2" && (flags & O_CLOEXEC)) : (flags & SOCK_CLOEXEC);
    int number = pipe ? static_cast<int>(unread_.size()) + 1 : 0;
    if (pipe) unread_[number] = 0;
    if (pair)
      for (int fd : {pair->first, pair->second})
        add(t, fd, RecordedFd{pipe ? RecordedFd::Kind::pipe : RecordedFd::Kind::other, pipe ? "a pipe" : "a socket",
                              fd == pair->first && pipe ? O_RDONLY : O_WRONLY, 0, -1, number},
            cloexec);
  } else if (const char* kind = other_kind(name)) {
    add(t, ret, RecordedFd{RecordedFd::Kind::other, kind, O_RDWR, 0, -1}, false);
  } else if (name == "chdir") {
    *t.cwd = absolute(t, AT_FDCWD, e.path.value_or("."));
  } else if (name == "fchdir") {
    if (auto* f = file_of(arg(0)); f && f->kind == RecordedFd::Kind::file) *t.cwd = f->path;
  }
}

const RecordedFds::Task* RecordedFds::find(int tid) const {
  auto found = tasks_.find(tid);
  if (found == tasks_.end()) found = tasks_.find(0);  // no event of any task yet
  return found == tasks_.end() ? nullptr : &found->second;
}

std::map<int, std::pair<RecordedFd, bool>> RecordedFds::table(int tid) const {
  std::map<int, std::pair<RecordedFd, bool>> out;
  if (const Task* t = find(tid))
    for (const auto& [fd, entry] : *t->fds) out.emplace(fd, std::make_pair(*entry.file, entry.cloexec));
  return out;
}

std::int64_t RecordedFds::unread(int pipe) const {
  auto found = unread_.find(pipe);
  return found == unread_.end() ? 0 : found->second;
}

std::string RecordedFds::cwd(int tid) const {
  const Task* t = find(tid);
  return t ? *t->cwd : "/";
}

}  // namespace ttdb
