// The time stamp counter and rdrand in replay: rdtsc where the recording
// trapped it, the int3 sites, and the trampolines of rdtsc sites whose
// shim had no recorded value to give. And the loader's xsavecs, which
// replay runs itself.
#include <sys/prctl.h>

#include "session.h"
#include "ttdb/base/log.h"
#include "ttdb/tracer/inject.h"

namespace ttdb {

using trace::Event;
using trace::EventKind;

void ReplaySession::prepare_tsc(const Event& next) {
  // An rdtsc event's instruction carries the int3 of replay's scan (the
  // recording's scan put one there too), or faults: code the scan did not
  // see, which the recording ran with rdtsc faulting for good. Each byte
  // of such code is in place by now, since code that changes without a
  // syscall (writable and executable at once, or through another view)
  // made the thread fault already (trap_tsc_for_good).
  bool faults = false;
  // (An rdtsc site's trampoline stops at its own int3 when its shim has no
  // value to give: apply_rdtsc.)
  if (next.kind == EventKind::rdtsc && (next.buffered || task().sites.where(next.args[0]) == SyscallPatcher::Where::slow_tail))
    return;
  if (next.kind == EventKind::rdtsc) {
    std::uint8_t first = 0;
    faults = tracee().read_some(RemotePtr(next.args[0]), &first, 1) != 1 || first != kInt3;
  } else if (next.kind == EventKind::signal && next.nr == SIGSEGV &&
             next.args[0] == static_cast<std::uint64_t>(trace::SignalDelivery::natural)) {
    // The program made rdtsc fault itself (PR_SET_TSC, which replay does
    // not run): it faults at the instruction, as it did, not at an int3.
    if (rand().original_byte(next.args[1])) {
      rand().unpatch_tsc(tracee());
      rand().patch_tsc(false);
    }
    faults = tsc_instruction_at(tracee(), RemotePtr(next.args[1])).has_value();
  }
  if (faults && !task().tsc_trapped) task().tsc_owed = true;
  pay_tsc_owed();
}

void ReplaySession::trap_tsc_for_good(const Event& e) {
  // Code may change from here on with no syscall between (the recorder
  // made rdtsc fault for good at the same calls, or at fewer): every thread
  // of the memory faults before it runs again, and no scan patches rdtsc.
  int leader = task().process(e.tid);
  for (auto& [tid, other] : state_.tasks)
    if (other.process(tid) == leader || (task().shares_memory && other.shares_memory)) {
      state_.rand_of(tid).patch_tsc(false);
      if (!other.tsc_trapped) other.tsc_owed = true;
    }
}

void ReplaySession::pay_tsc_owed() {
  // Not at a signal's delivery (an injected call would lose the signal), nor
  // inside a syscall it entered.
  TaskState& state = task();
  if (!state.tsc_owed || state.resume_signal || state.parked || state.spawn_entry || state.no_return || !state.syscall_insn)
    return;
  Tracee& t = tracee();
  if (t.entering_syscall()) return;
  std::int64_t done = inject_syscall(t, state.syscall_insn, __NR_prctl, {PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0, 0});
  if (done != 0)
    fail("cannot make rdtsc fault in process {} of the replay: {}", t.tid(), errno_text(static_cast<int>(-done)));
  state.tsc_owed = false;
  state.tsc_trapped = true;
}

void ReplaySession::apply_rdtsc(const Event& e, const WaitStatus& status) {
  Tracee& t = tracee();
  if (status.is_signal_stop() && status.code() == SIGTRAP &&
      task().sites.where(t.regs().rip - 1) == SyscallPatcher::Where::miss) {
    give_tsc_at_miss(e);
    return;
  }
  TscInsn insn{e.nr == 1, e.nr == 1 ? 3 : 2};
  bool at_int3 = status.is_signal_stop() && status.code() == SIGTRAP && t.regs().rip == e.args[0] + 1;
  if (!at_int3) {
    if (!status.is_signal_stop() || status.code() != SIGSEGV || t.regs().rip != e.args[0]) diverge(e, describe_stop(status));
    auto found = tsc_instruction_at(t, RemotePtr(e.args[0]));
    if (!found || found->rdtscp != (e.nr == 1)) diverge(e, "is not at an rdtsc instruction there");
    insn = *found;
  }
  emulate_tsc(t, insn, e.args[0], TscValue{e.args[1], static_cast<std::uint32_t>(e.args[2])});
  if (at_int3) put_back_trap();
}

void ReplaySession::give_tsc_at_miss(const Event& e) {
  // The shim of an rdtsc site's trampoline had no value for it (the queue
  // ended there, or the recording's rdtsc faulted in the slow tail): the
  // event's value goes in as rdtsc leaves it, and the program stands past
  // the slow tail's rdtsc, at the first instruction the trampoline moved
  // (as past an rdtsc's int3, at the instruction after it).
  Tracee& t = tracee();
  auto site = task().sites.site_of(t.regs().rip - 1);
  auto slow = site ? task().sites.tsc_slow_tail(*site) : std::nullopt;
  if (!slow || e.nr != 0 || (e.args[0] != *site && e.args[0] != *slow))
    diverge(e, fmt::format("reached the rdtsc at {:#x} instead", site.value_or(0)));
  Registers regs = t.regs();
  regs.rax = e.args[1] & 0xffffffffu;
  regs.rdx = e.args[1] >> 32;
  regs.rip = *slow + 2;
  t.set_regs(regs);
  put_back_trap();
}

void ReplaySession::leave_trampoline() {
  // Where give_tsc_at_miss or leave_slow_tail left the thread, the
  // recording's stood past the trampoline (the shim had gone back through
  // its stop tail, or the recorder had moved it on): a syscall site's moved
  // instructions are run as the recorder ran them; an rdtsc site's run to
  // the stop tail's int3, from the same one on.
  Tracee& t = tracee();
  std::uint64_t pc = t.regs().rip;
  auto site = task().sites.where(pc) == SyscallPatcher::Where::slow_tail ? task().sites.site_of(pc) : std::nullopt;
  if (!site) return;
  auto slow = task().sites.tsc_slow_tail(*site);
  if (!slow) {
    // (Not a call the kernel is about to restart, in the tail.)
    if (!is_restart_result(static_cast<std::int64_t>(t.regs().rax))) task().sites.finish_tail(t);
    return;
  }
  if (pc < *slow + 2) return;
  Registers regs = t.regs();
  regs.rip = *task().sites.tsc_stop_tail(*site) + (pc - (*slow + 2));
  t.set_regs(regs);
  run_to_trap(t);
  if (!task().sites.finish_tail(t))
    throw InternalError(fmt::format("the trampoline of the rdtsc at {:#x} did not end at its int3", *site));
  put_back_trap();
}

void ReplaySession::put_back_trap() {
  put_back_trap_action(tracee(), task().syscall_insn, state_.process_of(state_.acting).trap_action,
                       task().trap_blocked.value_or(false));
}

void ReplaySession::apply_rdrand(const Event& e, const WaitStatus& status) {
  Tracee& t = tracee();
  const RandSite* site = rand().site_for_trap(t.regs().rip);
  if (!status.is_signal_stop() || status.code() != SIGTRAP || !site || site->addr != e.args[0])
    diverge(e, describe_stop(status));
  RandPatcher::emulate(t, *site, e.args[1]);
  put_back_trap();
}

namespace {

// The debug registers' write watches (DR7) that cover part of [from, to).
std::uint64_t watched_writes(Tracee& t, std::uint64_t from, std::uint64_t to) {
  std::uint64_t dr7 = t.debug_register(7), hits = 0;
  for (int slot = 0; slot < 4; ++slot) {
    if (!(dr7 & (3ull << (2 * slot)))) continue;
    std::uint64_t rw = (dr7 >> (16 + 4 * slot)) & 3, len = (dr7 >> (18 + 4 * slot)) & 3;
    if (rw != 1 && rw != 3) continue;  // (instruction and I/O breakpoints)
    static constexpr std::uint64_t kLength[] = {1, 2, 8, 4};
    std::uint64_t addr = t.debug_register(slot);
    if (addr < to && addr + kLength[len] > from) hits |= 1ull << slot;
  }
  return hits;
}

// Makes the stopped thread's stop say SIGTRAP with `code`.
void say_trap(Tracee& t, int code) {
  siginfo_t info{};
  info.si_signo = SIGTRAP;
  info.si_code = code;
  t.set_siginfo(info);
}

}  // namespace

bool ReplaySession::run_loader_xsave(WaitStatus& status, Resume how) {
  if (!status.is_signal_stop() || status.code() != SIGTRAP) return false;
  Tracee& t = tracee();
  std::uint64_t pc = t.regs().rip;
  const RandSite* site = rand().site_for_trap(pc);
  if (!site || !site->xsave()) return false;
  TTDB_LOG(replay, "the loader's xsavec at {:#x} (thread {}), run by replay", site->addr, t.tid());
  // The int3's SIGTRAP was forced on the program (neither blocked nor
  // ignored, see resume_and_wait): nothing of its changed.
  if (auto written = RandPatcher::emulate_xsavec(t, *site)) {
    if (std::uint64_t hits = watched_writes(t, written->first, written->second)) {
      t.set_debug_register(6, hits);
      say_trap(t, TRAP_HWBKPT);
      return false;
    }
    if (how != Resume::singlestep) return true;
    say_trap(t, TRAP_TRACE);
    return false;
  }
  // It faults, or writes where ttdb cannot: the CPU runs it, and the stop
  // is what it makes.
  RandSite own = *site;
  Registers regs = t.regs();
  regs.rip = own.addr;
  t.set_regs(regs);
  t.write_value(RemotePtr(own.addr), own.first_byte);
  t.resume(Resume::singlestep);
  status = t.wait();
  t.write_value(RemotePtr(own.addr), kInt3);
  bool stepped = status.is_signal_stop() && status.code() == SIGTRAP && t.regs().rip == own.addr + 5;
  return stepped && how != Resume::singlestep;
}

}  // namespace ttdb
