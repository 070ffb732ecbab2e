#include "checkpoints.h"

#include <fmt/format.h>

#include <fstream>
#include <limits>
#include <sstream>

#include "ttdb/base/log.h"
#include "ttdb/tracer/inject.h"

namespace ttdb {

bool reaches(const Position& prefix, const Position& target) {
  if (prefix.event != target.event) return prefix.event < target.event;
  const auto& p = prefix.motions;
  const auto& t = target.motions;
  if (p.size() > t.size()) return false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == t[i]) continue;
    // Only the last motion may be partly done.
    bool partial = i + 1 == p.size() && p[i].tick == t[i].tick && p[i].count <= t[i].count;
    if (!partial) return false;
  }
  return true;
}

namespace {

// How far along `target` a position that reaches it is: (event, motions done).
std::pair<std::int64_t, double> progress(const Position& p) {
  double done = 0;
  for (const auto& m : p.motions) done += 1.0 + static_cast<double>(m.count) * 1e-12;
  return {p.event, done};
}

}  // namespace

void CheckpointSet::take(ReplaySession& session, const Position& position, Checkpoint::Kind kind, int bookmark_id) {
  if (auto existing = std::find_if(all_.begin(), all_.end(), [&](const Checkpoint& c) { return c.position == position; });
      existing != all_.end()) {
    // Already kept here; a bookmark makes it permanent.
    if (kind == Checkpoint::Kind::bookmark && existing->kind != Checkpoint::Kind::bookmark) {
      existing->kind = kind;
      existing->bookmark_id = bookmark_id;
      return;
    }
    if (kind != Checkpoint::Kind::bookmark) return;
  }
  Checkpoint c;
  c.position = position;
  c.state = session.state();
  for (auto& [tid, tracee] : session.tracees())
    c.processes[tid] = std::make_unique<Tracee>(fork_tracee(tracee, c.state.tasks.at(tid).syscall_insn));
  c.kind = kind;
  c.bookmark_id = bookmark_id;
  all_.push_back(std::move(c));
  TTDB_LOG(replay, "checkpoint at {} ({} kept)", position.describe(), all_.size());
  evict();
}

std::optional<std::size_t> CheckpointSet::victim() const {
  // The one whose neighbours are closest: dropping it costs the least replay.
  std::vector<std::size_t> order(all_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return progress(all_[a].position) < progress(all_[b].position); });
  std::optional<std::size_t> chosen;
  std::int64_t best_gap = std::numeric_limits<std::int64_t>::max();
  for (std::size_t k = 1; k + 1 < order.size(); ++k) {
    const auto& c = all_[order[k]];
    if (c.kind == Checkpoint::Kind::bookmark) continue;
    std::int64_t gap = all_[order[k + 1]].position.event - all_[order[k - 1]].position.event;
    if (gap < best_gap) {
      best_gap = gap;
      chosen = order[k];
    }
  }
  return chosen;
}

void CheckpointSet::evict() {
  auto drop = [&] {
    auto v = victim();
    if (v) all_.erase(all_.begin() + static_cast<std::ptrdiff_t>(*v));
    return v.has_value();
  };
  for (;;) {
    std::size_t automatic = 0;
    for (const auto& c : all_) automatic += c.kind != Checkpoint::Kind::bookmark;
    if (automatic <= budget_ || !drop()) break;
  }
  // Memory is read from /proc, which costs: look every few checkpoints.
  if (++takes_since_memory_check_ < kMemoryCheckEvery) return;
  takes_since_memory_check_ = 0;
  while (memory_kib() > memory_budget_kib_ && drop()) {
  }
}

const Checkpoint* CheckpointSet::best_for(const Position& target) const {
  const Checkpoint* best = nullptr;
  for (const auto& c : all_) {
    if (!reaches(c.position, target)) continue;
    if (!best || progress(best->position) < progress(c.position)) best = &c;
  }
  return best;
}

std::vector<const Checkpoint*> CheckpointSet::before(const Position& target) const {
  std::vector<const Checkpoint*> out;
  for (const auto& c : all_)
    if (reaches(c.position, target) && !(c.position == target)) out.push_back(&c);
  std::sort(out.begin(), out.end(),
            [](const Checkpoint* a, const Checkpoint* b) { return progress(b->position) < progress(a->position); });
  return out;
}

const Checkpoint* CheckpointSet::bookmark(int id) const {
  for (const auto& c : all_)
    if (c.kind == Checkpoint::Kind::bookmark && c.bookmark_id == id) return &c;
  return nullptr;
}

bool CheckpointSet::forget_bookmark(int id) {
  for (auto& c : all_)
    if (c.kind == Checkpoint::Kind::bookmark && c.bookmark_id == id) {
      c.kind = Checkpoint::Kind::stop;
      c.bookmark_id = 0;
      evict();
      return true;
    }
  return false;
}

std::uint64_t CheckpointSet::memory_kib() const {
  std::uint64_t total = 0;
  for (const auto& c : all_)
    for (const auto& [tid, process] : c.processes) {
      std::ifstream in(fmt::format("/proc/{}/smaps_rollup", process->tid()));
      std::string line;
      while (std::getline(in, line)) {
        if (line.rfind("Private_Dirty:", 0) == 0) {
          std::istringstream fields(line.substr(14));
          std::uint64_t kib = 0;
          fields >> kib;
          total += kib;
        }
      }
    }
  return total;
}

std::map<int, Tracee> CheckpointSet::revive(const Checkpoint& checkpoint) {
  std::map<int, Tracee> out;
  for (const auto& [tid, process] : checkpoint.processes)
    out.emplace(tid, fork_tracee(*process, checkpoint.state.tasks.at(tid).syscall_insn));
  return out;
}

}  // namespace ttdb
