// The recorded events in order, read ahead on a thread of its own: reading,
// decompressing and decoding them happen on another CPU than the replayed
// program's, which the replayer shares, and so does laying out each
// buffered syscall's record for the shim's queue. Its own trace
// connection: SQLite connections stay on one thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "ttdb/trace/reader.h"
#include "ttdb/tracer/syscall_buffer.h"

namespace ttdb {

// What filling and accounting for the syscall buffer's queue need of an
// event, found as it is read: a queue of thousands of events is filled and
// accounted for from these, which lie together, rather than from the
// events (a few hundred bytes each, written on the other CPU).
struct QueueFacts {
  enum : std::uint8_t {
    kEmits = 1,        // a write to ttdb's output (e.emit)
    kMakesAgain = 2,   // replay makes it again (replay_makes_again)
    kSetsAction = 4,   // an rt_sigaction that set an action, which a shim may keep
    kStopsBefore = 8,  // the call before it must stop: a signal at a boundary, a kill, a snapshot, going live
    kWrites = 16,      // it writes memory
    kShimMakes = 32,   // of kMakesAgain, one a version 8 shim can make (shim_makes_again)
    kMapsFile = 64,    // of those, a file's view (shim_maps_file_again)
  };
  std::int64_t id = 0;
  int tid = 0;
  std::uint8_t flags = 0;
  bool has(std::uint8_t flag) const { return (flags & flag) != 0; }
};

class EventStream {
 public:
  // A batch holds this many events, or fewer that write kBatchBytes:
  // the replayer waits for a whole batch, and the first of a trace of large
  // reads (a gzip of 20 MB: 480 reads of 32 KB in its first 512 events)
  // kept it waiting before its program even started.
  static constexpr std::size_t kBatch = 512;
  static constexpr std::size_t kBatchBytes = 1 << 20;

  EventStream(const std::string& trace_path, std::int64_t first = 1);
  ~EventStream();
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // Keeps the reading thread off `cpu` (the replayer's and the program's).
  void keep_off_cpu(int cpu);
  // From event `first` on, dropping what was read ahead.
  void seek(std::int64_t first);
  // The event `ahead` places after the next one; nullptr past the end.
  const trace::Event* peek(std::size_t ahead = 0) {
    if (ahead >= ready_count_ && !fill(ahead)) return nullptr;
    auto [batch, index] = locate(head_ + ahead);
    return &batch->events[index];
  }
  // What its queue needs of it; nullptr past the end.
  const QueueFacts* facts(std::size_t ahead) {
    if (ahead >= ready_count_ && !fill(ahead)) return nullptr;
    auto [batch, index] = locate(head_ + ahead);
    return &batch->facts[index];
  }
  // Its record for the shim's queue (a buffered syscall's that returned;
  // none: an empty one), valid while the event is.
  QueueEntry queue_entry(std::size_t ahead);
  // Takes the next event; nullopt at the end.
  std::optional<trace::Event> take();
  // Drops the next `count` events, whose buffers the reading thread then reuses.
  void drop(std::size_t count = 1);

 private:
  void run();
  // Moves batches the thread has read into ready_ until it holds more than
  // `ahead` events, or the end has come. False at the end.
  bool fill(std::size_t ahead);

  // Events as read, what the queue needs of them, and their records laid
  // out (an empty one for events the queue never takes).
  struct Batch {
    std::vector<trace::Event> events;
    std::vector<QueueFacts> facts;
    Bytes arena;
    std::vector<QueueRecord> records;
  };
  using BytesOf = std::function<Bytes(const trace::MemWrite&)>;
  static void lay_out_records(const BytesOf& bytes_of, Batch& batch);

  std::string path_;
  // The consumer's batches, in order, from ready_.front().events[head_] on.
  std::deque<Batch> ready_;
  std::size_t head_ = 0;
  std::size_t ready_count_ = 0;
  void pop_front();
  // The batch and index of the event `at` places from ready_.front()'s
  // first. The consumer walks a queue's events in order (a million clock
  // reads: four lookups each): mostly in the batch it last found (found_,
  // the found_index_th, whose first event is at found_start_); from there
  // on, not from the first.
  std::pair<const Batch*, std::size_t> locate(std::size_t at) {
    if (found_ && at - found_start_ < found_->events.size()) return {found_, at - found_start_};
    if (!found_ || at < found_start_) found_index_ = found_start_ = 0;
    while (at - found_start_ >= ready_[found_index_].events.size())
      found_start_ += ready_[found_index_++].events.size();
    found_ = &ready_[found_index_];
    return {found_, at - found_start_};
  }
  // (A deque keeps its elements where they are as it grows and shrinks at its ends.)
  const Batch* found_ = nullptr;
  std::size_t found_index_ = 0, found_start_ = 0;

  std::mutex mutex_;
  std::condition_variable wake_producer_, wake_consumer_;
  std::deque<Batch> batches_;     // read ahead, not taken yet
  std::vector<Batch> spare_;      // batches the consumer is done with, to decode into
  std::size_t batched_ = 0;       // events in batches_
  std::size_t batched_bytes_ = 0; // their records' bytes
  std::int64_t start_ = 1;        // where the thread reads from
  std::uint64_t generation_ = 0;  // bumped by every seek
  bool at_end_ = false;           // the thread read the last event of this generation
  bool stopping_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace ttdb
