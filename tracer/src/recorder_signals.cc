// The recorder at signal stops and interrupts: see recorder.cc's opening
// comment for why a signal is delivered at a syscall boundary or held.
#include "recorder_state.h"

namespace ttdb::recording {

void Recorder::on_group_stop(int sig, const Boundary& previous) {
  // Nothing ran since its stopping signal's delivery.
  keep_boundary(previous);
  task().job_signal = sig;
  // A task the program traces stops for its tracer, which says how it goes on.
  if (group_stop_for_tracer(sig)) return;
  // Job control: it stays stopped until a SIGCONT, as without ttdb, so that
  // its parent's waits see it stopped and none of its code runs meanwhile;
  // PTRACE_LISTEN keeps it so, and its next stop says it goes on. No event:
  // replay runs its code in the trace's order anyway.
  hold_in_job_stop(task());
}

void Recorder::keep_boundary(const Boundary& previous) {
  task().boundary = previous;
  // A signal sent while it stood stopped (a SIGCONT, say) is delivered
  // before its next instruction, at that boundary too.
  if (previous.kind == Boundary::Kind::after_signal) task().boundary.pending |= tracee().pending_signals();
}

void Recorder::hold_in_job_stop(Task& t) {
  if (t.space->turns->turn == t.tracee.tid()) t.space->turns->turn = 0;
  t.job_stopped = true;
  t.stopped = false;
  t.tracee.resume(Resume::listen);
}

void Recorder::on_interrupt() {
  if (std::exchange(task().preempt, false) && turns().turn == tracee().tid()) {
    if (in_ttdb_code()) {
      // In ttdb's code, which keeps one call's state: ask again once it is out.
      turns().turn_since = std::chrono::steady_clock::now() - kTimeSlice + std::chrono::milliseconds(1);
    } else {
      // Its turn ends here. Without a branch counter, its whole state names
      // the place: replay restores it there.
      drain();
      emit(snapshot());
      turns().turn = 0;
      inject_held_signals();
      return;
    }
  }
  // An interrupt whose stop came after another one has nothing left to do.
  if (task().held.empty()) return;
  task().held_since = std::chrono::steady_clock::now();  // if they wait on, another interrupt comes later
  drain();
  if (space().shim && held_in_shim()) return;
  // No instruction can be named without a branch counter, so the program's
  // whole state goes into the trace, and replay restores it here.
  emit(snapshot());
  inject_held_signals();
}

Event Recorder::snapshot() {
  pid_t process = task().tgid ? task().tgid : tracee().tid();
  return capture_snapshot(tracee(), &space().written, process, space().inject_at, space().shim);
}

bool Recorder::in_ttdb_code() {
  if (!space().shim) return false;
  std::uint64_t pc = tracee().regs().rip;
  // The vDSO's clock code the shim calls lies outside it: in_call says the
  // thread is in a call the shim makes, on the shim's one stack.
  return space().shim.contains(pc) || space().sites.where(pc) != SyscallPatcher::Where::elsewhere ||
         shim_in_call(tracee(), space().shim);
}

bool Recorder::held_in_shim() {
  Tracee& t = tracee();
  if (!in_ttdb_code()) return false;
  auto where = space().sites.where(t.regs().rip);
  // Back in the program's flow (the call is over): a boundary right here.
  if ((where == SyscallPatcher::Where::done_tail || where == SyscallPatcher::Where::stop_tail) && space().sites.finish_tail(t)) {
    // Moved on from a stop tail before its int3, whose SIGTRAP would have
    // had SIGTRAP put back as the program left it (leave_sigtrap_alone).
    if (where == SyscallPatcher::Where::stop_tail) put_back_sigtrap(t, space().shim, space().inject_at);
    deliver_held_here();
    return true;
  }
  // Before a slow tail's syscall, the recorder stops at its entry anyway;
  // inside the shim, the call in progress ends at an int3, and among the
  // instructions a slow tail runs moved after its call (which the recorder
  // does not run for the thread), the next call the shim makes does.
  if (where != SyscallPatcher::Where::slow_tail || space().sites.past_slow_call(t.regs().rip)) set_shim_flags(false, true);
  return true;
}

void Recorder::deliver_held_here() {
  // Queued now, they are delivered before the program runs an instruction.
  inject_held_signals();
  task().boundary = Boundary::after_exit_with(tracee().regs());
}

void Recorder::inject_held_signals() {
  // tgkill takes the thread's process: a thread other than the first is not its own.
  pid_t process = task().tgid ? task().tgid : tracee().tid();
  for (const auto& info : task().held) {
    if (::syscall(SYS_tgkill, process, tracee().tid(), info.si_signo) != 0)
      fail("cannot pass {} on to thread {} of process {}: {}", signal_name(info.si_signo), tracee().tid(), process, std::strerror(errno));
    task().injected[info.si_signo] = info;
  }
  task().held.clear();
}

void Recorder::hold_signal(const siginfo_t& info) {
  // Natively the kernel drops a signal the program ignores as it is sent.
  // Held, it would meet whatever action the program sets before the
  // boundary: a handler it installs next would run for a signal sent while
  // it was ignored. (A program that traces this one sees every signal.)
  if (!task().traced && (discarded_signals(tracee().tid()) & sigbit(info.si_signo))) {
    TTDB_LOG(record, "{} is ignored: dropped, as the kernel drops it", signal_name(info.si_signo));
    return;
  }
  TTDB_LOG(record, "holding {} until the next syscall boundary", signal_name(info.si_signo));
  if (task().held.empty()) task().held_since = std::chrono::steady_clock::now();
  task().held.push_back(info);
  // The next hooked syscall takes the traced path, where the boundary is.
  if (space().shim && !held_in_shim()) set_shim_flags(true, false);
}

void Recorder::take_back_deferred_signals() {
  auto deferred = tracee().take_deferred_signals();
  if (deferred.empty()) return;
  // At a syscall's exit they were pending as the call returned, and are
  // delivered right here, as without ttdb: a signal the program sends
  // itself runs its handler before tgkill returns. Elsewhere they wait for
  // a boundary, like any other.
  Boundary& here = task().boundary;
  if (!here.at_unmoved_exit(tracee().regs())) {
    for (const auto& info : deferred) hold_signal(info);
    return;
  }
  task().held.insert(task().held.end(), deferred.begin(), deferred.end());
  inject_held_signals();
}

void Recorder::record_signal(const siginfo_t& info, SignalDelivery delivery) {
  Event e;
  e.kind = EventKind::signal;
  e.tid = tracee().tid();
  e.nr = info.si_signo;
  e.args[0] = static_cast<std::uint64_t>(delivery);
  e.args[1] = tracee().regs().rip;
  e.args[2] = static_cast<std::uint64_t>(static_cast<std::int64_t>(info.si_code));
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(&info);
  e.info.assign(bytes, bytes + sizeof info);
  emit(std::move(e));
}

void Recorder::put_back_trap() {
  // (Without the syscall buffer, the vDSO's syscall instruction is ttdb's.)
  put_back_trap_action(tracee(), space().inject_at ? space().inject_at : space().vdso_syscall, space().trap_action,
                       task().trap_blocked.value_or(false));
}

void Recorder::watch_trap_mask(Task& t) {
  Space& s = *t.space;
  if (!s.rand.has_sites()) return;
  // What changes the mask without a stop is the shim's own rt_sigprocmask:
  // it goes to the traced path instead, whose exit forgets the mask.
  if (s.shim && !s.masks_traced) {
    trace_in_shim(t.tracee, s.shim, __NR_rt_sigprocmask);
    s.masks_traced = true;
  }
  // (A handler the kernel enters at this resume may block SIGTRAP too, with
  // its sa_mask: not known here, its int3s leave it unblocked.)
  if (!t.trap_blocked) t.trap_blocked = (t.tracee.signal_mask() & sigbit(SIGTRAP)) != 0;
}

void Recorder::on_signal(int sig, const Boundary& previous) {
  Tracee& t = tracee();
  drain();
  siginfo_t info = t.siginfo();
  if (auto told = tracer_sigchld(task().tgid, info)) {
    info = *told;
    t.set_siginfo(info);
  }
  const Registers& regs = t.regs();

  if (space().shim && sig == SIGTRAP && info.si_code == SI_KERNEL && space().sites.where(regs.rip - 1) == SyscallPatcher::Where::stop_tail) {
    // The shim came back through its int3, as asked: the held signals go now,
    // and SIGTRAP is again what the program made it (leave_sigtrap_alone).
    put_back_sigtrap(t, space().shim, space().inject_at);
    space().sites.finish_tail(t);
    deliver_held_here();
    return;
  }
  // (An rdtsc site's slow tail runs rdtsc, which faults as the program's would.)
  auto where = space().sites.where(regs.rip);
  bool tsc_slow_tail = where == SyscallPatcher::Where::slow_tail && sig == SIGSEGV && tsc_instruction_at(t, RemotePtr(regs.rip));
  if (space().shim && is_fault(info) && !tsc_slow_tail &&
      (space().shim.contains(regs.rip) || where != SyscallPatcher::Where::elsewhere)) {
    stop_recording(fmt::format("ttdb's syscall buffer faulted ({} at {:#x}) at event {}; record the program with "
                               "--no-syscall-buffer, and please report it",
                               signal_name(sig), regs.rip, writer_.last_event_id() + 1));
    return;
  }

  // rdtsc traps for ttdb; a program that asked for that itself
  // (PR_SET_TSC, PR_TSC_SIGSEGV) takes the SIGSEGV, as it would natively.
  if (sig == SIGSEGV && info.si_code == SI_KERNEL && space().view.tsc_mode != PR_TSC_SIGSEGV) {
    if (auto insn = tsc_instruction_at(t, RemotePtr(regs.rip))) {
      record_tsc(*insn, regs.rip);
      return;
    }
  }
  if (sig == SIGTRAP && info.si_code == SI_KERNEL) {
    const RandSite* site = space().rand.site_for_trap(regs.rip);
    if (site && site->tsc()) {
      if (counts_to_libraries()) return patch_libraries_at_tsc(site->addr);
      on_tsc_site(*site);
      put_back_trap();
      return;
    }
    if (site) {
      std::uint64_t value = RandPatcher::host_random(*site);
      Event e;
      e.kind = EventKind::rdrand;
      e.tid = t.tid();
      e.nr = site->seed() ? 1 : 0;
      e.args = {site->addr, value, 0, 0, 0, 0};
      RandPatcher::emulate(t, *site, value);
      emit(std::move(e));
      put_back_trap();
      return;
    }
  }

  bool deliver_now = false;
  if (auto injected = task().injected.find(sig); injected != task().injected.end()) {
    info = injected->second;  // as it first arrived, not as ttdb resent it
    task().injected.erase(injected);
    // Sent at a boundary while the program blocked it, and unblocked by a
    // call the shim made (rt_sigprocmask): not on the shim's stack, in the
    // middle of its call. It waits for the call's end, as any other.
    if (space().shim && in_ttdb_code()) {
      hold_signal(info);
      return;
    }
    t.set_siginfo(info);
    record_signal(info, SignalDelivery::at_boundary);
    deliver_now = true;
  } else if (is_fault(info)) {
    record_signal(info, SignalDelivery::natural);
    if (!signal_for_tracer(info)) task().resume_signal = sig;
    return;
  } else if (previous.at_unmoved_exit(regs) ||
             (previous.kind == Boundary::Kind::after_signal && (previous.pending & sigbit(sig)))) {
    record_signal(info, SignalDelivery::at_boundary);
    deliver_now = true;
  }
  if (!deliver_now) {
    hold_signal(info);
    return;
  }
  if (!signal_for_tracer(info)) task().resume_signal = sig;
  // Other signals already queued are delivered before any instruction runs.
  task().boundary = Boundary{Boundary::Kind::after_signal, Registers{}, t.pending_signals()};
}

}  // namespace ttdb::recording
