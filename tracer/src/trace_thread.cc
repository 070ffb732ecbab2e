#include "trace_thread.h"

#include <pthread.h>
#include <sys/resource.h>

#include "ttdb/base/error.h"
#include "ttdb/base/log.h"
#include "ttdb/trace/reader.h"
#include "ttdb/tracer/launcher.h"

namespace ttdb {
namespace {

// A recorder this far ahead of the writer waits for it.
constexpr std::size_t kMostQueued = 256 << 20;
// The writer is woken when this much is queued (or by the clock, or to
// finish): waking it for every event costs the recorder more than the event,
// while a block of the syscall buffer's records (up to 256 KiB) is worth a
// wake of its own: the writer parses it while the program makes the next.
constexpr std::size_t kWakeJobs = 256;
constexpr std::size_t kWakeBytes = 256 << 10;
// Nor does a job wait longer than this for the writer to wake: a short
// program's events would otherwise all wait for the end, which then waits
// for the writer.
constexpr auto kWakeAge = std::chrono::milliseconds(1);
// What a recorder killed with SIGKILL loses is bounded by these: an event is
// committed about kCommitAge after the recorder handed it over, and the
// recorder waits when the writer is kCommitLag behind (a writer starved of
// CPU, or compressing a large blob). The writer wakes by itself at least
// every kCommitAge.
constexpr auto kCommitAge = std::chrono::milliseconds(50);
constexpr auto kCommitLag = std::chrono::milliseconds(100);

}  // namespace

TraceThread::TraceThread(const std::string& path, bool claimed, std::function<void(trace::Event&)> annotate,
                         int off_cpu)
    : path_(path), annotate_(std::move(annotate)) {
  if (!claimed) trace::TraceWriter::claim(path);
  thread_ = std::thread([this, off_cpu] {
    leave_cpu(off_cpu);
    run();
  });
  ::pthread_setname_np(thread_.native_handle(), "ttdb-writer");
}

TraceThread::~TraceThread() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void TraceThread::keep_off_cpu(int cpu) { ttdb::keep_off_cpu(thread_, cpu); }

void TraceThread::run() {
  // Creating the file and its schema takes a couple of milliseconds, which
  // the recorder spends starting the program.
  try {
    writer_.emplace(path_, /*claimed=*/true);
  } catch (...) {
    std::lock_guard lock(mutex_);
    error_ = std::current_exception();
  }
  // When the oldest job not committed yet was handed over, if there is one,
  // and the newest.
  bool uncommitted = false;
  Clock::time_point uncommitted_since{}, uncommitted_until{};
  for (;;) {
    Job job;
    bool caught_up = false;
    {
      std::unique_lock lock(mutex_);
      auto deadline = (uncommitted ? uncommitted_since : Clock::now()) + kCommitAge;
      wake_.wait_until(lock, deadline, [&] { return !jobs_.empty() || stopping_; });
      if (jobs_.empty() && stopping_) break;
      if (!jobs_.empty()) {
        job = std::move(jobs_.front());
        jobs_.pop_front();
        if (!uncommitted) uncommitted_since = job.posted;
        uncommitted_until = job.posted;
        uncommitted = true;
      }
      caught_up = jobs_.empty();
    }
    try {
      if (job.run && !error_) job.run(*writer_);
      if (!error_ && !finished_) {
        // A batch is committed once its first job is kCommitAge old and the
        // queue is empty, or once it spans kCommitAge of the recorder's
        // time. A writer behind the queue (it wakes by the clock to jobs
        // up to kCommitAge old, or was starved of CPU) takes jobs that old
        // already: committing after each of them, which costs far more
        // than the job, would keep it behind for good, and hold the
        // recorder, which waits for a writer kCommitLag behind, to one
        // commit per event.
        bool due = uncommitted && (uncommitted_until - uncommitted_since >= kCommitAge ||
                                   (caught_up && Clock::now() - uncommitted_since >= kCommitAge));
        if (due) {
          writer_->commit();
          uncommitted = false;
        } else if (writer_->commit_if_due()) {
          uncommitted = false;
        }
      }
    } catch (...) {
      // The trace keeps its committed batches: a write that failed (a full
      // disk) must not leave half a batch to be committed later.
      if (writer_) writer_->abandon();
      std::lock_guard lock(mutex_);
      error_ = std::current_exception();
    }
    if (job.run) {
      std::lock_guard lock(mutex_);
      queued_bytes_ -= job.bytes;
      room_.notify_one();
    }
  }
  if (!error_ && !finished_) {
    try {
      if (writer_) writer_->commit();
    } catch (...) {
      writer_->abandon();
      error_ = std::current_exception();
    }
  }
  struct rusage usage {};
  ::getrusage(RUSAGE_THREAD, &usage);
  TTDB_LOG(trace, "the writer used {} ms of CPU", (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000 +
                                                      (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000);
}

void TraceThread::check() {
  std::lock_guard lock(mutex_);
  if (error_) std::rethrow_exception(error_);
}

void TraceThread::post(std::size_t bytes, std::function<void(trace::TraceWriter&)> job) {
  bool wake = false;
  {
    std::unique_lock lock(mutex_);
    if (error_) std::rethrow_exception(error_);
    auto writer_behind = [&] {
      return queued_bytes_ >= kMostQueued || (!jobs_.empty() && Clock::now() - jobs_.front().posted >= kCommitLag);
    };
    if (writer_behind()) {
      wake_.notify_one();
      room_.wait(lock, [&] { return error_ || !writer_behind(); });
      if (error_) std::rethrow_exception(error_);
    }
    queued_bytes_ += bytes;
    jobs_.push_back(Job{bytes, Clock::now(), std::move(job)});
    wake = jobs_.size() >= kWakeJobs || queued_bytes_ >= kWakeBytes || jobs_.back().posted - jobs_.front().posted >= kWakeAge;
  }
  if (wake) wake_.notify_one();
}

std::int64_t TraceThread::add_event(trace::Event event) {
  std::size_t bytes = 256 + event.info.size();
  for (const auto& m : event.mem) bytes += m.data.size();
  post(bytes, [this, e = std::move(event)](trace::TraceWriter& w) mutable {
    annotate_(e);
    w.add_event(e);
  });
  return ++last_event_;
}

void TraceThread::add_events(std::size_t count, std::size_t bytes,
                             std::function<void(trace::TraceWriter&, const std::function<void(trace::Event&)>&)> produce) {
  std::int64_t first = last_event_ + 1;
  last_event_ += static_cast<std::int64_t>(count);
  post(bytes, [this, first, count, produce = std::move(produce)](trace::TraceWriter& w) {
    produce(w, [&](trace::Event& e) {
      annotate_(e);
      w.add_event(e);
    });
    if (w.last_event_id() != first + static_cast<std::int64_t>(count) - 1)
      throw InternalError(fmt::format("a block of {} events from event {} produced {}", count, first,
                                      w.last_event_id() - first + 1));
  });
}

void TraceThread::continue_from(const std::string& source, std::int64_t last_event) {
  trace::TraceReader reader(source);
  for (const auto& file : reader.files()) last_file_ = std::max(last_file_, file.id);
  last_event_ = last_event;
  // What `annotate_` follows (which descriptors are ttdb's output) is what
  // the events so far made it. Here, on the caller's thread: the writer's
  // runs it only in jobs, and none is posted yet.
  if (annotate_) {
    auto cursor = reader.cursor();
    for (trace::Event e; cursor.next(e) && e.id <= last_event;) annotate_(e);
  }
  post(0, [source, last_event](trace::TraceWriter& w) { w.continue_from(source, last_event); });
  commit();
}

std::int64_t TraceThread::add_file(trace::FileRecord record, std::optional<Bytes> content) {
  std::int64_t id = record.id = ++last_file_;
  std::size_t bytes = content ? content->size() : 0;
  post(bytes, [record = std::move(record), content = std::move(content)](trace::TraceWriter& w) {
    w.add_file(record, content ? &*content : nullptr);
  });
  return id;
}

void TraceThread::set_meta(std::string key, std::string value) {
  post(0, [key = std::move(key), value = std::move(value)](trace::TraceWriter& w) { w.set_meta(key, value); });
}

void TraceThread::set_meta(std::string key, std::int64_t value) {
  post(0, [key = std::move(key), value](trace::TraceWriter& w) { w.set_meta(key, value); });
}

void TraceThread::commit() {
  post(0, [](trace::TraceWriter& w) { w.commit(); });
  wake_.notify_one();
}

void TraceThread::finish() {
  post(0, [this](trace::TraceWriter& w) {
    w.finish();
    finished_ = true;
  });
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  check();
}

}  // namespace ttdb
