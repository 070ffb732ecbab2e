#include "checkpoints.h"

#include <fmt/format.h>
#include <asm/unistd_64.h>
#include <sys/mman.h>

#include <algorithm>
#include <deque>
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

// A thread parked at a syscall's entry, made to stand at its exit for a
// while (to run injected syscalls), and put back at the entry on every path.
class Unparked {
 public:
  Unparked(Tracee& thread, std::uint64_t syscall_insn)
      : thread_(thread), syscall_insn_(syscall_insn), entry_(skip_entered_syscall(thread)) {}
  ~Unparked() {
    try {
      if (thread_.alive()) reenter_syscall(thread_, syscall_insn_, entry_);
    } catch (const std::exception& error) {
      TTDB_LOG(replay, "could not park thread {} again: {}", thread_.tid(), error.what());
    }
  }
  Unparked(const Unparked&) = delete;
  Unparked& operator=(const Unparked&) = delete;
  const Registers& entry() const { return entry_; }

 private:
  Tracee& thread_;
  std::uint64_t syscall_insn_;
  Registers entry_;
};

// Gives the process memory advice by an injected madvise for each range.
void advise(Tracee& thread, std::uint64_t syscall_insn, const std::vector<ForkAdvice>& advice, bool undo) {
  for (const auto& a : advice) {
    int how = !undo ? a.advice : a.advice == MADV_DONTFORK ? MADV_DOFORK : MADV_KEEPONFORK;
    std::int64_t result = inject_syscall(thread, syscall_insn, __NR_madvise, {a.start, a.end - a.start, static_cast<std::uint64_t>(how)});
    if (result != 0) fail("cannot advise memory {:#x}-{:#x} of process {} for a checkpoint: {}", a.start, a.end, thread.tid(),
                          errno_text(static_cast<int>(-result)));
  }
}

// The program's advice lifted while a checkpoint's fork is made (it must
// copy everything), and given back on every path.
class AdviceLifted {
 public:
  AdviceLifted(Tracee& thread, std::uint64_t syscall_insn, const std::vector<ForkAdvice>& advice)
      : thread_(thread), syscall_insn_(syscall_insn), advice_(advice) {
    advise(thread, syscall_insn, advice, true);
  }
  ~AdviceLifted() {
    try {
      if (thread_.alive()) advise(thread_, syscall_insn_, advice_, false);
    } catch (const std::exception& error) {
      TTDB_LOG(replay, "could not give process {} its memory advice back: {}", thread_.tid(), error.what());
    }
  }
  AdviceLifted(const AdviceLifted&) = delete;
  AdviceLifted& operator=(const AdviceLifted&) = delete;

 private:
  Tracee& thread_;
  std::uint64_t syscall_insn_;
  const std::vector<ForkAdvice>& advice_;
};

// Shared memory larger than this is not kept by checkpoints.
constexpr std::uint64_t kLargestSharedCopy = 64ull << 20;

CheckpointProcess fork_process(std::map<int, Tracee>& tracees, const SessionState& state, int leader,
                               const std::vector<int>& tids) {
  CheckpointProcess p;
  p.tid = tracees.contains(leader) ? leader : tids.front();
  std::uint64_t insn = state.tasks.at(p.tid).syscall_insn;
  bool parked = std::any_of(tids.begin(), tids.end(), [&](int tid) { return state.tasks.at(tid).parked.has_value(); });
  // Parked threads stand at their syscalls' exits until the fork is made.
  std::deque<Unparked> unparked;
  if (tids.size() > 1 || parked) {
    for (int tid : tids) {
      Tracee& thread = tracees.at(tid);
      const Registers* entry = nullptr;
      if (state.tasks.at(tid).parked) entry = &unparked.emplace_back(thread, insn).entry();
      ThreadCopy copy = copy_thread(thread, insn);
      if (entry) {
        copy.regs = *entry;
        copy.at_syscall_entry = true;
      }
      p.threads.emplace(tid, std::move(copy));
    }
  }
  Tracee& source = tracees.at(p.tid);
  if (std::any_of(tids.begin(), tids.end(), [&](int tid) { return state.tasks.at(tid).fork_advice; }))
    p.advice = read_fork_advice(source.tid());
  AdviceLifted lifted(source, insn, p.advice);
  p.fork = std::make_unique<Tracee>(fork_tracee(source, insn));
  for (const auto& m : read_maps(source.tid()))
    if (m.shared && m.writable && m.end - m.start <= kLargestSharedCopy)
      if (auto bytes = source.try_read_bytes(RemotePtr(m.start), m.end - m.start)) p.shared_memory.emplace_back(m.start, std::move(*bytes));
  return p;
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
  c.shared_files = session.shared_files().contents(kLargestSharedCopy);
  for (const auto& [leader, tids] : c.state.by_process())
    c.processes.push_back(fork_process(session.tracees(), c.state, leader, tids));
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
    for (const auto& process : c.processes) {
      std::ifstream in(fmt::format("/proc/{}/smaps_rollup", process.fork->tid()));
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
  for (const auto& process : checkpoint.processes) {
    std::uint64_t insn = checkpoint.state.tasks.at(process.tid).syscall_insn;
    Tracee forked = fork_tracee(*process.fork, insn);
    advise(forked, insn, process.advice, false);
    for (const auto& [addr, bytes] : process.shared_memory) forked.write_bytes(RemotePtr(addr), bytes);
    for (const auto& [tid, copy] : process.threads) {
      if (tid == process.tid) continue;
      Tracee thread = clone_thread(forked, insn);
      restore_thread(thread, insn, copy);
      out.emplace(tid, std::move(thread));
    }
    if (auto own = process.threads.find(process.tid); own != process.threads.end()) restore_thread(forked, insn, own->second);
    out.emplace(process.tid, std::move(forked));
  }
  return out;
}

}  // namespace ttdb
