// Counting arrivals in the program itself: how the engine reaches "the N-th
// arrival at A" deep inside a stretch without syscalls at native speed, and
// how it finds the instruction before a position at the end of such a
// stretch without single-stepping all of it (tracer/arrival_counter.h).
#include <algorithm>
#include <csignal>
#include <set>

#include "engine_impl.h"
#include "ttdb/base/log.h"

namespace ttdb {

namespace {

// Fewer arrivals than this cost less as int3 stops than a counter's setup.
constexpr std::uint64_t kCountInProgram = 64;
// Addresses tried as counting places per approach.
constexpr int kCandidates = 4;

}  // namespace

std::optional<ArrivalCounter> EngineImpl::install_counter(const ArrivalCounter::Where& where,
                                                          const std::vector<std::uint64_t>& code) {
  const TaskState& state = session.task_state();
  if (!state.syscall_insn) return std::nullopt;
  // The program, and the other threads of its process, stand in its code:
  // none may stand inside the bytes the counter moves.
  std::vector<std::uint64_t> others{session.tracee().regs().rip};
  if (state.threaded)
    for (auto& [tid, tracee] : session.tracees())
      if (tid != session.acting_tid() && session.state().tasks.at(tid).process(tid) == state.process(session.acting_tid()))
        others.push_back(tracee.regs().rip);
  auto avoid = [&](std::uint64_t b) {
    if (b == where.addr) return state.sites.original_byte(b) || state.rand.original_byte(b);
    return state.sites.original_byte(b) || state.rand.original_byte(b) ||
           std::find(code.begin(), code.end(), b) != code.end() || std::find(others.begin(), others.end(), b) != others.end();
  };
  return ArrivalCounter::install(session.tracee(), state.syscall_insn, session.counter_pages(), where, avoid);
}

bool EngineImpl::leave_counter(const ArrivalCounter& counter, const WaitStatus& status, RunOutcome& out) {
  Tracee& t = session.tracee();
  out.counter_installed = true;
  bool trapped = status.is_signal_stop() && status.code() == SIGTRAP && counter.take_trap(t);
  if (!trapped)
    if (auto original = counter.original_pc(t.regs().rip)) {
      Registers regs = t.regs();
      regs.rip = *original;
      t.set_regs(regs);
    }
  out.counted = counter.arrivals(t);
  counter.remove(t);
  if (!trapped) return false;
  out.kind = RunOutcome::Kind::arrival;
  out.addr = counter.addr();
  --out.counted;  // the arrival `out` is itself
  return true;
}

std::optional<ArrivalCounter::Where> EngineImpl::counting_for(const Goal& goal, std::uint64_t goal_count) {
  auto standing_on = [&](std::uint64_t addr) { return session.tracee().regs().rip == addr; };
  if (goal.count_at) return ArrivalCounter::Where{*goal.count_at, 0, standing_on(*goal.count_at)};
  if (!goal.motion || goal.motion->tick.kind != Tick::Kind::code) return std::nullopt;
  std::uint64_t addr = goal.motion->tick.addr, remaining = goal.motion->count - goal_count;
  if (remaining < kCountInProgram) return std::nullopt;
  // Each arrival at a breakpoint or a searched address is looked at: those stop.
  if (goal.user_points)
    for (const auto& [id, bp] : breakpoints)
      if (bp.enabled && bp.addr == addr) return std::nullopt;
  if (std::find(goal.until_addrs.begin(), goal.until_addrs.end(), addr) != goal.until_addrs.end()) return std::nullopt;
  return ArrivalCounter::Where{addr, remaining, standing_on(addr)};
}

bool EngineImpl::stands_inside(const ArrivalCounter::Where& where) {
  std::uint64_t pc = session.tracee().regs().rip;
  if (pc <= where.addr || pc >= where.addr + 32) return false;
  auto length = ArrivalCounter::moved_length(session.tracee(), where.addr);
  return length && pc < where.addr + *length;
}

bool EngineImpl::approach(const Position& target, const std::map<std::uint64_t, std::uint64_t>& seen) {
  const Motion& last = target.motions.back();
  // The most visited first: the loop the stretch spends its time in.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> by_visits(seen.begin(), seen.end());
  std::stable_sort(by_visits.begin(), by_visits.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  Position here = pos;
  int tried = 0;
  for (const auto& [addr, visits] : by_visits) {
    if (tried == kCandidates) break;
    if (last.tick.kind == Tick::Kind::code && last.tick.addr == addr) continue;
    seek(here);
    auto probe = install_counter(ArrivalCounter::Where{addr, 0, false}, {});
    if (!probe) continue;
    probe->remove(session.tracee());
    ++tried;
    // To the target, counting the arrivals at `addr` on the way.
    std::optional<std::uint64_t> total = 0;
    Goal goal;
    goal.motion = Motion{last.tick, 1};
    goal.count_at = addr;
    goal.counted = [&](std::optional<std::uint64_t> n) {
      if (total && n) *total += *n;
      else total.reset();
    };
    Stop stop = run(goal);
    if (stop.kind == Stop::Kind::interrupted) throw Interrupted{};
    TTDB_LOG(replay, "approach {}: {} arrivals at {:#x} on the way", target.describe(), total ? *total : 0, addr);
    if (!total || *total == 0) continue;
    Position closer = here;
    append_motion(closer, Motion{Tick{Tick::Kind::code, addr, 0}, *total});
    seek(closer);
    return true;
  }
  seek(here);
  return false;
}

}  // namespace ttdb
