#include "event_stream.h"

#include <pthread.h>

#include <algorithm>

#include "ttdb/tracer/launcher.h"

namespace ttdb {
namespace {

// Read ahead this far, in batches of kBatch: one lock per batch. The events
// decoded into are the replayer's old ones: the fewer in flight, the more
// of their memory is still in the cache (16 batches with queues of 4096:
// a million clock reads replayed in 0.88 of the time 64 with queues of
// 16384 took).
constexpr std::size_t kReadAhead = 16 * EventStream::kBatch;
constexpr std::size_t kReadAheadBytes = 16 * EventStream::kBatchBytes;

QueueFacts facts_of(const trace::Event& e) {
  using trace::EventKind;
  QueueFacts out;
  out.id = e.id;
  out.tid = e.tid;
  auto flag = [&](bool set, std::uint8_t bit) { out.flags |= set ? bit : 0; };
  flag(e.emit != 0, QueueFacts::kEmits);
  // (Asked once: the shim makes again only what replay does, and the
  // syscall's facts are looked up for every event, a million clock reads'.)
  bool makes_again = e.kind == EventKind::syscall && replay_makes_again(e);
  flag(makes_again, QueueFacts::kMakesAgain);
  flag(makes_again && shim_makes_again(e), QueueFacts::kShimMakes);
  flag(e.kind == EventKind::syscall && shim_maps_file_again(e), QueueFacts::kMapsFile);
  flag(sets_signal_action(e), QueueFacts::kSetsAction);
  flag(!e.mem.empty(), QueueFacts::kWrites);
  bool boundary_signal = e.kind == EventKind::signal &&
                         e.args[0] == static_cast<std::uint64_t>(trace::SignalDelivery::at_boundary);
  bool killed = e.kind == EventKind::exit && e.args[0] == static_cast<std::uint64_t>(trace::ExitKind::killed);
  // A snapshot's int3 is set once it is next; going live takes the buffer out.
  flag(boundary_signal || killed || e.kind == EventKind::snapshot || e.kind == EventKind::live, QueueFacts::kStopsBefore);
  return out;
}

}  // namespace

EventStream::EventStream(const std::string& trace_path, std::int64_t first) : path_(trace_path), start_(first) {
  thread_ = std::thread([this] { run(); });
  ::pthread_setname_np(thread_.native_handle(), "ttdb-events");
}

void EventStream::keep_off_cpu(int cpu) { ttdb::keep_off_cpu(thread_, cpu); }

EventStream::~EventStream() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_producer_.notify_one();
  thread_.join();
}

void EventStream::run() {
  try {
    trace::TraceReader reader(path_);
    std::optional<trace::TraceReader::Cursor> cursor;
    const BytesOf bytes_of = [&](const trace::MemWrite& m) { return reader.mem_bytes(m); };
    std::uint64_t generation = ~0ull;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        wake_producer_.wait(lock, [&] {
          return stopping_ || generation != generation_ ||
                 (!at_end_ && batched_ < kReadAhead && batched_bytes_ < kReadAheadBytes);
        });
        if (stopping_) return;
        if (generation != generation_) {
          generation = generation_;
          lock.unlock();
          cursor.emplace(reader.cursor(start_));
          continue;
        }
      }
      Batch batch;
      {
        std::lock_guard lock(mutex_);
        if (!spare_.empty()) {
          batch = std::move(spare_.back());
          spare_.pop_back();
        }
      }
      // Decoding into events the replayer is done with reuses their buffers.
      batch.events.resize(kBatch);
      std::size_t filled = 0, bytes = 0;
      bool ended = false;
      while (filled < kBatch && bytes < kBatchBytes) {
        if (!cursor->next(batch.events[filled])) {
          ended = true;
          break;
        }
        for (const auto& m : batch.events[filled++].mem) bytes += m.size;
      }
      batch.events.resize(filled);
      lay_out_records(bytes_of, batch);
      {
        std::lock_guard lock(mutex_);
        if (generation != generation_) continue;  // a seek came meanwhile: this batch is stale
        at_end_ = ended;
        batched_ += batch.events.size();
        batched_bytes_ += batch.arena.size();
        if (!batch.events.empty()) batches_.push_back(std::move(batch));
      }
      wake_consumer_.notify_one();
    }
  } catch (...) {
    std::lock_guard lock(mutex_);
    error_ = std::current_exception();
    at_end_ = true;
    wake_consumer_.notify_one();
  }
}

void EventStream::lay_out_records(const BytesOf& bytes_of, Batch& batch) {
  batch.arena.clear();
  batch.records.clear();
  batch.facts.clear();
  for (const trace::Event& e : batch.events) batch.facts.push_back(facts_of(e));
  for (const trace::Event& e : batch.events) {
    if (e.kind == trace::EventKind::rdtsc && e.buffered) {  // (an rdtsc site's record: shim version 7)
      batch.records.push_back(lay_out_record(e, bytes_of, 0, batch.arena, true));
      continue;
    }
    if (e.kind != trace::EventKind::syscall || !e.buffered || !e.ret) {
      batch.records.emplace_back();
      continue;
    }
    // What a write to ttdb's output wrote comes back with the event: room for it.
    std::uint64_t output = e.emit && *e.ret > 0 ? static_cast<std::uint64_t>(*e.ret) : 0;
    batch.records.push_back(lay_out_record(e, bytes_of, output, batch.arena, /*clock_records=*/true));
  }
}

void EventStream::seek(std::int64_t first) {
  ready_.clear();
  head_ = 0;
  ready_count_ = 0;
  found_ = nullptr;
  {
    std::lock_guard lock(mutex_);
    batches_.clear();
    batched_ = 0;
    batched_bytes_ = 0;
    at_end_ = false;
    start_ = first;
    ++generation_;
  }
  wake_producer_.notify_one();
}

bool EventStream::fill(std::size_t ahead) {
  while (ready_count_ <= ahead) {
    Batch batch;
    {
      std::unique_lock lock(mutex_);
      wake_consumer_.wait(lock, [&] { return !batches_.empty() || at_end_ || error_; });
      if (error_) std::rethrow_exception(error_);
      if (batches_.empty()) return false;
      batch = std::move(batches_.front());
      batches_.pop_front();
      batched_ -= batch.events.size();
      batched_bytes_ -= batch.arena.size();
    }
    wake_producer_.notify_one();
    ready_count_ += batch.events.size();
    ready_.push_back(std::move(batch));
  }
  return true;
}

QueueEntry EventStream::queue_entry(std::size_t ahead) {
  if (!fill(ahead)) return {};
  auto [batch, index] = locate(head_ + ahead);
  const QueueRecord& record = batch->records[index];
  return QueueEntry{batch->events[index].id, ByteView(batch->arena).subspan(record.offset, record.size),
                    record.input_offset, record.input_size};
}

void EventStream::pop_front() {
  --ready_count_;
  if (++head_ < ready_.front().events.size()) return;
  // The whole batch is done with: its events' buffers serve the thread again.
  Batch done = std::move(ready_.front());
  ready_.pop_front();
  head_ = 0;
  // (Positions count from the new first batch now.)
  if (!found_ || found_index_ == 0) {
    found_ = nullptr;
  } else {
    --found_index_;
    found_start_ -= done.events.size();
  }
  std::lock_guard lock(mutex_);
  if (spare_.size() < kReadAhead / kBatch) spare_.push_back(std::move(done));
}

void EventStream::drop(std::size_t count) {
  // A batch's worth at a time: a queue gives back thousands at once.
  while (count && fill(0)) {
    std::size_t n = std::min(count, ready_.front().events.size() - head_ - 1);
    head_ += n;
    ready_count_ -= n;
    count -= n;
    if (count) {
      pop_front();  // the batch's last: it goes back to the thread
      --count;
    }
  }
}

std::optional<trace::Event> EventStream::take() {
  if (!fill(0)) return std::nullopt;
  trace::Event e = std::move(ready_.front().events[head_]);
  pop_front();
  return e;
}

}  // namespace ttdb
