// Replay: re-execute a recorded program so that it behaves exactly as it did,
// with the recorded results of everything nondeterministic injected. This is
// the replay library's front door; it prints nothing itself.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ttdb/base/bytes.h"
#include "ttdb/base/error.h"
#include "ttdb/tracer/record.h"
#include "ttdb/tracer/wait_status.h"

namespace ttdb {

// Where the replayed program's output to its stdout (1) and stderr (2) goes.
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  virtual void write(int stream, ByteView bytes) = 0;
  // The recorded stdout was a regular file, where the program put these
  // bytes at `offset`, leaving its position at `position`, both counted
  // from where the file stood when the recording began (negative: before
  // it). A sink that is a regular file too can do the same; by default the
  // bytes are appended.
  virtual void write_at(int stream, std::int64_t offset, std::int64_t position, ByteView bytes) {
    (void)offset;
    (void)position;
    write(stream, bytes);
  }
  // The program moved its position in that file (lseek), or cut it
  // (ftruncate), counted alike.
  virtual void seek(int stream, std::int64_t position) { (void)stream, (void)position; }
  virtual void truncate(int stream, std::int64_t size) { (void)stream, (void)size; }
  // Replay is about to replay event `event` of the `events` recorded (for a
  // progress line).
  virtual void replaying(std::int64_t event, std::int64_t events) { (void)event, (void)events; }
};

// How go-live hands a replayed process over (Engine::go_live).
struct GoLiveOptions {
  // These descriptors, which go-live could not re-create (a pipe, a
  // socket), get /dev/null instead; with null_all, every such one does.
  std::set<int> null_fds;
  bool null_all = false;
  // Called with the process's pid right before it runs on its own (the
  // caller gives it the terminal), and the recorded pids of the recording's
  // other processes alive here, which stay stopped under replay.
  std::function<void(int pid, const std::vector<int>& left_behind)> handing_over;
  // go-live --record: the live run is recorded into this new trace, which
  // begins with the recording's events up to here; go_live returns when
  // the process has ended. Empty: it runs on by itself.
  std::string record_to;
};

// What go-live did: the live process, and when it was recorded on, how
// that recording ended.
struct GoLiveResult {
  int pid = 0;
  std::optional<RecordOutcome> recording;
};

// The replay stopped matching the recording: the message says at which event,
// what the recording has, and what the program did instead.
class Divergence : public Error {
 public:
  Divergence(std::int64_t event, const std::string& message) : Error(message), event_(event) {}
  std::int64_t event() const { return event_; }

 private:
  std::int64_t event_;
};

struct ReplayEnd {
  enum class Kind {
    exited,      // the program ended as it did in the recording
    incomplete,  // the recording stops early (interrupted or refused)
  };
  Kind kind = Kind::exited;
  WaitStatus status;  // exited: how the program ended
  std::int64_t last_event = 0;
  std::string reason;  // incomplete: why the recording ends there
};

class ReplaySession;

class Replayer {
 public:
  // Opens the trace (throws ttdb::Error when it cannot be read).
  Replayer(const std::string& trace_path, OutputSink& sink);
  ~Replayer();
  Replayer(const Replayer&) = delete;
  Replayer& operator=(const Replayer&) = delete;

  // Replays to the end of the recording. Throws Divergence when the program
  // stops matching it.
  ReplayEnd run_to_end();

 private:
  std::unique_ptr<ReplaySession> session_;
};

}  // namespace ttdb
