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

EngineImpl::Counters EngineImpl::install_counters(const std::vector<ArrivalCounter::Where>& where,
                                                 const std::vector<std::uint64_t>& code) {
  Counters out{std::vector<std::optional<ArrivalCounter>>(where.size()), std::vector<std::optional<std::size_t>>(where.size())};
  const TaskState& state = session.task_state();
  const RandPatcher& rand = session.state().rand_of(session.acting_tid());
  // A signal on its way in would be taken by the syscalls that map a
  // counter page: int3s then, for this short stretch into the handler.
  if (where.empty() || !state.syscall_insn || state.resume_signal || state.signal_sent_for) return out;
  // The program, and the other threads of its process, stand in its code:
  // none may stand inside the bytes a counter moves.
  std::vector<std::uint64_t> standing{session.tracee().regs().rip};
  if (state.threaded)
    for (auto& [tid, tracee] : session.tracees())
      if (tid != session.acting_tid() && session.state().tasks.at(tid).process(tid) == state.process(session.acting_tid()))
        standing.push_back(tracee.regs().rip);
  auto listed = [](const std::vector<std::uint64_t>& in, std::uint64_t b) { return std::find(in.begin(), in.end(), b) != in.end(); };
  // A counter that traps first (it must have its own), then the lowest
  // address first: an address inside the code a counter moved is counted by
  // that counter, whatever order they were asked in.
  std::vector<std::size_t> order(where.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::pair{where[a].limit == 0, where[a].addr} < std::pair{where[b].limit == 0, where[b].addr};
  });
  for (std::size_t i : order) {
    std::uint64_t addr = where[i].addr;
    for (std::size_t j = 0; j < where.size() && !out.same_as[i] && !where[i].limit; ++j)
      if (out.own[j] && out.own[j]->passes_through(addr)) out.same_as[i] = j;
    if (out.same_as[i]) continue;
    // ttdb's own patches and int3s, the other counters' moved code, and
    // where the threads stand (but on the counted address itself).
    auto avoid = [&](std::uint64_t b) {
      if (state.sites.original_byte(b) || rand.original_byte(b)) return true;
      if (state.sites.where(b) != SyscallPatcher::Where::elsewhere) return true;  // (a trampoline)
      for (const auto& c : out.own)
        if (c && b >= c->addr() && b < c->addr() + c->length()) return true;
      return b != addr && (listed(code, b) || listed(standing, b));
    };
    out.own[i] = ArrivalCounter::install(session.tracee(), state.syscall_insn, session.counter_pages(), where[i],
                                         static_cast<unsigned>(i), avoid);
  }
  return out;
}

bool EngineImpl::leave_counters(const Counters& counters, const WaitStatus& status, RunOutcome& out) {
  Tracee& t = session.tracee();
  const auto& own = counters.own;
  bool trap = status.is_signal_stop() && status.code() == SIGTRAP;
  std::optional<std::size_t> trapped;
  for (std::size_t i = 0; i < own.size() && !trapped; ++i)
    if (own[i] && trap && own[i]->take_trap(t)) trapped = i;
  if (!trapped)
    for (const auto& c : own)
      if (auto original = c ? c->original_pc(t.regs().rip) : std::nullopt) {
        Registers regs = t.regs();
        regs.rip = *original;
        t.set_regs(regs);
        break;
      }
  out.counted.assign(own.size(), std::nullopt);
  for (std::size_t i = 0; i < own.size(); ++i) {
    if (own[i]) out.counted[i] = own[i]->arrivals(t);
    if (counters.same_as[i]) out.counted[i] = own[*counters.same_as[i]]->executions(t);
  }
  for (const auto& c : own)
    if (c) c->remove(t);
  if (!trapped) return false;
  out.kind = RunOutcome::Kind::arrival;
  out.addr = own[*trapped]->addr();
  --*out.counted[*trapped];  // the arrival `out` is itself
  return true;
}

std::vector<ArrivalCounter::Where> EngineImpl::counting_for(const Goal& goal, std::uint64_t goal_count,
                                                            const std::vector<std::uint64_t>& in_program) {
  std::uint64_t pc = program_pc();
  std::vector<ArrivalCounter::Where> out;
  if (goal.motion && goal.motion->tick.kind == Tick::Kind::code) {
    std::uint64_t addr = goal.motion->tick.addr, remaining = goal.motion->count - goal_count;
    // Each arrival at a breakpoint or a searched address is looked at: those stop.
    bool looked_at = std::find(goal.until_addrs.begin(), goal.until_addrs.end(), addr) != goal.until_addrs.end();
    if (goal.user_points)
      for (const auto& [id, bp] : breakpoints) looked_at |= breakpoint_at(bp, addr);
    if (remaining >= kCountInProgram && !looked_at) out.push_back(ArrivalCounter::Where{addr, remaining, pc == addr});
  }
  for (std::uint64_t addr : in_program) out.push_back(ArrivalCounter::Where{addr, 0, pc == addr});
  return out;
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
    auto probe = install_counters({ArrivalCounter::Where{addr, 0, false}}, {});
    if (!probe.own.front()) continue;
    probe.own.front()->remove(session.tracee());
    ++tried;
    // To the target, counting the arrivals at `addr` on the way.
    std::optional<std::uint64_t> total = 0;
    Goal goal;
    goal.motion = Motion{last.tick, 1};
    goal.count_at = {addr};
    goal.counted = [&](std::uint64_t, std::optional<std::uint64_t> n) {
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

namespace {

// The one motion that takes `from` to `end` in the same stretch, if that is
// what separates them.
std::optional<Motion> motion_between(const Position& from, const Position& end) {
  if (from.event != end.event || end.motions.empty() || end.motions.size() < from.motions.size()) return std::nullopt;
  std::size_t n = from.motions.size();
  if (end.motions.size() == n + 1) {
    if (!std::equal(from.motions.begin(), from.motions.end(), end.motions.begin())) return std::nullopt;
    return end.motions.back();
  }
  if (end.motions.size() != n || !std::equal(from.motions.begin(), from.motions.end() - 1, end.motions.begin())) return std::nullopt;
  const Motion& a = from.motions.back();
  const Motion& b = end.motions.back();
  if (a.tick != b.tick || a.count >= b.count) return std::nullopt;
  return Motion{b.tick, b.count - a.count};
}

}  // namespace

std::optional<std::optional<std::pair<Position, Stop>>> EngineImpl::last_arrival_counted(const Position& from,
                                                                                       const Position& end,
                                                                                       const Position& target,
                                                                                       const Goal& observing) {
  // The searched addresses, and the breakpoints' for reverse-continue
  // (whose conditions are asked at the last hit). A watchpoint's writes are
  // looked at one by one: counting cannot serve those.
  std::vector<std::uint64_t> addrs;
  if (!observing.until_layout || *observing.until_layout == layout_of(image_of_task(session.acting_tid())))
    addrs = observing.until_addrs;
  bool watching = false;
  if (observing.user_points)
    for (const auto& [id, w] : watchpoints) watching |= w.enabled;
  if (observing.user_points)
    for (const auto& [id, bp] : breakpoints)
      if (bp.enabled)
        for (std::uint64_t at : addresses_here(bp))
          if (std::find(addrs.begin(), addrs.end(), at) == addrs.end()) addrs.push_back(at);
  auto between = motion_between(from, end);
  // An event that leaves the program on a searched address (a signal's
  // delivery onto its handler) is an arrival there that only a run that
  // stops can see: such an interval is searched stop by stop.
  bool arrives_at_start = from.motions.empty() && !pending_first && !session.ended() &&
                          std::find(addrs.begin(), addrs.end(), program_pc()) != addrs.end();
  // (A signal's arrival, the start of an event, is a hit reverse-continue
  // looks at where the interval ends.)
  bool to_event = between && between->tick.kind == Tick::Kind::event_start && observing.user_points;
  if (watching || to_event || arrives_at_start || addrs.empty() || addrs.size() > ArrivalCounter::kSlots || !between ||
      between->tick.kind == Tick::Kind::step) {
    TTDB_LOG(replay, "counting does not search {} to {} for {} addresses", from.describe(), end.describe(), addrs.size());
    return std::nullopt;
  }
  // How many times the program arrives at each address on the way to `end`
  // (the arrival that `end` itself is excepted).
  auto counted_run = [&](const Motion& motion, const std::vector<std::uint64_t>& at) -> std::optional<std::vector<std::uint64_t>> {
    std::optional<std::vector<std::uint64_t>> totals(std::vector<std::uint64_t>(at.size(), 0));
    Goal goal;
    goal.motion = motion;
    goal.count_at = at;
    goal.counted = [&](std::uint64_t addr, std::optional<std::uint64_t> n) {
      if (!n) totals.reset();
      if (totals) (*totals)[static_cast<std::size_t>(std::find(at.begin(), at.end(), addr) - at.begin())] += *n;
    };
    if (run(goal).kind == Stop::Kind::interrupted) throw Interrupted{};
    return totals;
  };
  auto others = [&](std::uint64_t except) {
    std::vector<std::uint64_t> out;
    for (std::uint64_t a : addrs)
      if (a != except) out.push_back(a);
    return out;
  };
  std::uint64_t end_addr = between->tick.kind == Tick::Kind::code ? between->tick.addr : 0;
  std::vector<std::uint64_t> at = others(end_addr);
  auto totals = counted_run(*between, at);
  if (!totals || !(pos == end)) {
    TTDB_LOG(replay, "counting cannot search {} to {}: {}", from.describe(), end.describe(), totals ? "it ran elsewhere" : "no counter");
    return std::nullopt;
  }
  // The previous interval began here: a hit exactly here is the latest.
  if (end != target && !arrival_at_event_end(target))
    if (auto here = hit_here(observing)) return std::optional{std::pair{end, *here}};
  std::map<std::uint64_t, std::uint64_t> arrivals;
  for (std::size_t i = 0; i < at.size(); ++i)
    if ((*totals)[i]) arrivals[at[i]] = (*totals)[i];
  if (end_addr && std::find(addrs.begin(), addrs.end(), end_addr) != addrs.end() && between->count > 1)
    arrivals[end_addr] = between->count - 1;
  if (arrivals.empty()) return std::optional<std::pair<Position, Stop>>{};
  // The last arrival is the one after which no other address is arrived at.
  for (const auto& [addr, count] : arrivals) {
    seek(from);
    std::vector<std::uint64_t> rest = others(addr);
    // Only where every other address arrived at often can be counted
    // alongside: an int3 stop at each of those arrivals would cost what
    // counting saves.
    std::vector<ArrivalCounter::Where> together{ArrivalCounter::Where{addr, count, false}};
    for (std::uint64_t b : rest) together.push_back(ArrivalCounter::Where{b, 0, false});
    auto probe = install_counters(together, {});
    bool all = true;
    for (std::size_t i = 0; i < together.size(); ++i)
      all &= probe.own[i] || probe.same_as[i] || (i > 0 && arrivals[together[i].addr] < kCountInProgram);
    for (const auto& c : probe.own)
      if (c) c->remove(session.tracee());
    if (!all) continue;
    auto before = counted_run(Motion{Tick{Tick::Kind::code, addr, 0}, count}, rest);
    if (!before) {
      TTDB_LOG(replay, "counting cannot search {} to {}: no counter", from.describe(), end.describe());
      return std::nullopt;
    }
    bool last = true;
    for (std::size_t i = 0; i < rest.size(); ++i) last &= (*before)[i] == (arrivals.count(rest[i]) ? arrivals[rest[i]] : 0);
    if (!last) continue;
    Position at_hit = pos;
    // Accepted (the right frame, a breakpoint's condition)? Otherwise an
    // earlier arrival may be: the caller looks at each one.
    auto hit = hit_at_pc(observing);
    if (!hit) {
      TTDB_LOG(replay, "the last arrival, {}, is not one the search accepts", at_hit.describe());
      return std::nullopt;
    }
    TTDB_LOG(replay, "last arrival before {} by counting: {}", end.describe(), at_hit.describe());
    return std::optional{std::pair{at_hit, *hit}};
  }
  TTDB_LOG(replay, "counting found no last arrival between {} and {}", from.describe(), end.describe());
  return std::nullopt;
}

}  // namespace ttdb
