// What each process's file descriptors, working directory and interval
// timers were at a point of the recording, rebuilt from its events (replay
// emulates opens and timers, so the replayed process holds none of them):
// go-live re-creates them.
#pragma once

#include <sys/time.h>

#include <map>
#include <memory>
#include <string>

#include "ttdb/trace/event.h"

namespace ttdb {

struct RecordedFd {
  enum class Kind {
    standard,  // one of the descriptors the program started with (0, 1, 2): ttdb's own now
    file,      // opened by path
    pipe,
    other,     // a socket, an eventfd, ...: `path` says what
  };
  Kind kind = Kind::other;
  std::string path;         // file: absolute; other: what it is
  int flags = 0;            // the open flags (access mode, O_APPEND, O_NONBLOCK, ...)
  std::int64_t offset = 0;  // file: where reads and writes go on
  int standard = -1;        // standard: which of 0, 1, 2
  int pipe = 0;             // pipe: which one (numbered from 1), its end by the access mode
};

class RecordedFds {
 public:
  // `cwd`: the recording's working directory at its start.
  explicit RecordedFds(std::string cwd);
  // Takes the events in order, from the first.
  void follow(const trace::Event& e);
  // Task `tid`'s descriptors, with whether each is close-on-exec.
  std::map<int, std::pair<RecordedFd, bool>> table(int tid) const;
  std::string cwd(int tid) const;
  // The bytes written into pipe `pipe` that no read took yet.
  std::int64_t unread(int pipe) const;
  // Task `tid`'s process's interval timers still armed (ITIMER_REAL,
  // VIRTUAL, PROF), as last set: how long is left is not recorded.
  std::map<int, itimerval> timers(int tid) const;

 private:
  struct Entry {
    std::shared_ptr<RecordedFd> file;  // an open file description: dups share it
    bool cloexec = false;
  };
  using Table = std::map<int, Entry>;
  using Timers = std::map<int, itimerval>;
  struct Task {
    std::shared_ptr<Table> fds;        // threads (CLONE_FILES) share it
    std::shared_ptr<std::string> cwd;  // and this (CLONE_FS)
    std::shared_ptr<Timers> timers = std::make_shared<Timers>();  // and these (CLONE_THREAD)
  };
  Task& task(int tid);
  const Task* find(int tid) const;
  std::string absolute(const Task& t, long dirfd, const std::string& path) const;
  void follow_syscall(Task& t, const trace::Event& e);
  void add(Task& t, int fd, RecordedFd file, bool cloexec);
  static void follow_timers(Task& t, const trace::Event& e);

  std::map<int, Task> tasks_;
  std::map<int, std::int64_t> unread_;  // by pipe
};

}  // namespace ttdb
