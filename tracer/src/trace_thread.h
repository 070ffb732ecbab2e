// The recorder's trace writer, on a thread of its own: encoding, compressing
// and inserting events happen on another CPU than the recorded program's,
// which the recorder shares. Events keep their order; numbers (event and file
// ids) are handed out at once, on the recorder's side.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "ttdb/trace/writer.h"

namespace ttdb {

class TraceThread {
 public:
  // Claims the trace's path, unless the caller has (errors such as an
  // existing file are thrown here), and starts the thread, which creates
  // the trace. `annotate` runs on that thread, on every event in order, just
  // before it is written. The thread starts off `off_cpu` (the CPU the
  // recorder will pin itself and the program to; -1: none), where creating
  // the trace would keep the recorder from starting the program.
  TraceThread(const std::string& path, bool claimed, std::function<void(trace::Event&)> annotate, int off_cpu = -1);
  // Commits what is queued and stops the thread.
  ~TraceThread();
  TraceThread(const TraceThread&) = delete;
  TraceThread& operator=(const TraceThread&) = delete;

  // The trace begins as `source`'s first `last_event` events
  // (trace::TraceWriter::continue_from), which `annotate` sees first; call
  // it before anything else.
  void continue_from(const std::string& source, std::int64_t last_event);

  // Keeps the thread off `cpu` (the recorder's and the program's).
  void keep_off_cpu(int cpu);

  // Runs `job` on the thread, after everything queued before it. `bytes` is
  // about how much memory it holds: a recorder far ahead of the thread waits.
  void post(std::size_t bytes, std::function<void(trace::TraceWriter&)> job);

  std::int64_t add_event(trace::Event event);
  // Queues `count` events that `produce` will make on the thread, with
  // numbers from last_event_id() + 1 on.
  void add_events(std::size_t count, std::size_t bytes, std::function<void(trace::TraceWriter&, const std::function<void(trace::Event&)>&)> produce);
  std::int64_t add_file(trace::FileRecord record, std::optional<Bytes> content);
  std::int64_t last_event_id() const { return last_event_; }
  void set_meta(std::string key, std::string value);
  void set_meta(std::string key, std::int64_t value);
  // Commits everything queued so far, in the background.
  void commit();
  // Writes everything, finishes the file and stops the thread; rethrows the
  // first error the thread met.
  void finish();

 private:
  void run();
  void check();

  std::string path_;
  std::optional<trace::TraceWriter> writer_;  // the thread's, created there
  std::function<void(trace::Event&)> annotate_;
  std::int64_t last_event_ = 0;
  std::int64_t last_file_ = 0;

  std::mutex mutex_;
  std::condition_variable wake_, room_;
  using Clock = std::chrono::steady_clock;
  struct Job {
    std::size_t bytes = 0;  // about how much memory it holds
    Clock::time_point posted;
    std::function<void(trace::TraceWriter&)> run;
  };
  std::deque<Job> jobs_;
  std::size_t queued_bytes_ = 0;
  bool stopping_ = false;
  bool finished_ = false;  // the thread's own: finish() ran
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace ttdb
