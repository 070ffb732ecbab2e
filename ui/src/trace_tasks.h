// The processes and threads of a recording, as its events make and end
// them: what `ttdb ps` lists and the timeline's lanes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ttdb/trace/reader.h"

namespace ttdb {

struct TraceTask {
  int tid = 0;
  int process = 0;  // its process's first thread's tid
  int parent = 0;   // the process that made it (0: ttdb)
  std::optional<std::vector<std::string>> argv;  // from its latest exec
  std::optional<trace::Event> exit;
  std::int64_t first_event = 0, last_event = 0;
};

class TaskTracker {
 public:
  explicit TaskTracker(const trace::TraceReader& reader) : reader_(reader) {}
  // Takes the events in order. Returns the index in tasks() of the task
  // whose event `e` is (a spawn is its parent's), or -1 for a task the
  // events never made (a corrupt trace).
  int see(const trace::Event& e);
  const std::vector<TraceTask>& tasks() const { return tasks_; }
  // A process's exit: its last thread's, the one that ended it.
  std::optional<trace::Event> process_exit(const TraceTask& process) const;

 private:
  const trace::TraceReader& reader_;
  std::vector<TraceTask> tasks_;    // in the order they were made
  std::map<int, std::size_t> live_;  // tid -> its task, while it runs
};

// What the task runs, as `ttdb ps` shows it: its last exec's arguments, or
// "(forked without exec)".
std::string command_line(const TraceTask& task);

// `ttdb events`' line for `e`: its number, its pid when the recording has
// several tasks, and the event as strace would show it.
std::string event_line(const trace::Event& e, bool several_tasks);

}  // namespace ttdb
