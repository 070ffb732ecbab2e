// Checkpoints: stopped forks of the replayed program, each with the session
// state and the position it was taken at. Restoring one forks it again, so a
// checkpoint serves any number of times.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "session.h"
#include "ttdb/replay/engine.h"
#include "ttdb/tracer/proc_maps.h"
#include "ttdb/tracer/thread_copy.h"

namespace ttdb {

// One process of a checkpoint. A fork has one thread, the one it was made
// from; a process with several keeps a copy of each, to make them again.
struct CheckpointProcess {
  int tid = 0;  // the recorded tid of the thread forked
  std::unique_ptr<Tracee> fork;
  std::map<int, ThreadCopy> threads;  // by recorded tid, `tid`'s included; empty for one thread
  std::vector<ForkAdvice> advice;     // memory the program keeps out of its forks, kept in this one
  // Memory it shares with other processes (MAP_SHARED): a fork shares it
  // rather than copies it, so its content is kept here.
  std::vector<std::pair<std::uint64_t, Bytes>> shared_memory;
};

struct Checkpoint {
  Position position;
  std::vector<CheckpointProcess> processes;  // every live process
  // Replay's copies of the files mapped shared (shared_files.h), which the
  // forks share too.
  std::map<trace::FileIdentity, Bytes> shared_files;
  SessionState state;
  enum class Kind { automatic, stop, bookmark } kind = Kind::automatic;
  int bookmark_id = 0;
};

// True when `prefix` is at or before `target`, and `target` can be reached
// from it by running forward only: an earlier event, or the same event with
// `target`'s first motions (the last one possibly partly done).
bool reaches(const Position& prefix, const Position& target);

class CheckpointSet {
 public:
  CheckpointSet(std::size_t budget, std::uint64_t memory_budget_kib)
      : budget_(budget), memory_budget_kib_(memory_budget_kib) {}

  // Forks the session's processes where they stand.
  void take(ReplaySession& session, const Position& position, Checkpoint::Kind kind, int bookmark_id = 0);
  // The checkpoint closest before `target` (reaches() it), if any.
  const Checkpoint* best_for(const Position& target) const;
  // Checkpoints strictly before `target`, latest first.
  std::vector<const Checkpoint*> before(const Position& target) const;
  const Checkpoint* bookmark(int id) const;
  // Forks of a checkpoint's processes, to continue from (it stays as it is).
  static std::map<int, Tracee> revive(const Checkpoint& checkpoint);
  bool forget_bookmark(int id);
  std::size_t size() const { return all_.size(); }
  std::uint64_t memory_kib() const;
  const std::vector<Checkpoint>& all() const { return all_; }

 private:
  void evict();
  std::optional<std::size_t> victim() const;

  static constexpr int kMemoryCheckEvery = 8;
  std::size_t budget_;
  std::uint64_t memory_budget_kib_;
  int takes_since_memory_check_ = 0;
  std::vector<Checkpoint> all_;
};

}  // namespace ttdb
