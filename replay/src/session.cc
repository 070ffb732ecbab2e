#include "session.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "ttdb/base/log.h"
#include "ttdb/trace/format.h"
#include "ttdb/tracer/exec_stack.h"
#include "ttdb/tracer/launcher.h"
#include "ttdb/tracer/proc_maps.h"
#include "ttdb/tracer/render.h"
#include "ttdb/tracer/snapshot.h"

namespace ttdb {

using trace::Event;
using trace::EventKind;

ReplaySession::ReplaySession(const std::string& trace_path, OutputSink& sink)
    : reader_(trace_path), cursor_(reader_.cursor()), sink_(sink), files_(reader_) {}

std::optional<Event> ReplaySession::next_event() {
  if (!ahead_.empty()) {
    Event e = std::move(ahead_.front());
    ahead_.pop_front();
    return e;
  }
  Event e;
  if (!cursor_.next(e)) return std::nullopt;
  return e;
}

const Event* ReplaySession::peek() {
  if (ahead_.empty()) {
    Event e;
    if (!cursor_.next(e)) return nullptr;
    ahead_.push_back(std::move(e));
  }
  return &ahead_.front();
}

bool ReplaySession::step() {
  if (ended_) return false;
  auto e = next_event();
  if (!e) return false;
  if (e->id != current_ + 1)
    fail("trace {} is corrupt: event {} follows event {}", reader_.path(), e->id, current_);
  if (!tracee_ && e->kind != EventKind::exec)
    fail("trace {} is corrupt: it does not begin with an exec event", reader_.path());
  TTDB_LOG(replay, "event {}: {}", e->id, render_event(*e));
  switch (e->kind) {
    case EventKind::exec: apply_exec(*e); break;
    case EventKind::syscall: apply_syscall(*e); break;
    case EventKind::signal: apply_signal(*e); break;
    case EventKind::rdtsc: apply_rdtsc(*e); break;
    case EventKind::rdrand: apply_rdrand(*e); break;
    case EventKind::exit: apply_exit(*e); break;
    case EventKind::snapshot: apply_snapshot(*e); break;
    default: fail("trace {} is corrupt: event {} has an unknown kind", reader_.path(), e->id);
  }
  current_ = e->id;
  return true;
}

WaitStatus ReplaySession::resume_and_wait() {
  for (;;) {
    tracee_->resume(Resume::syscall, std::exchange(resume_signal_, 0));
    WaitStatus status = tracee_->wait();
    // Job-control stops were not kept in the recording either.
    if (status.kind() != WaitStatus::Kind::group_stop) return status;
  }
}

void ReplaySession::send_signal(int sig) {
  // Queued while the program is stopped at a boundary, it is delivered before
  // the program runs another instruction, as it was in the recording.
  ::syscall(SYS_tgkill, tracee_->tid(), tracee_->tid(), sig);
}

std::string ReplaySession::describe_stop(const WaitStatus& status) {
  Tracee& t = *tracee_;
  switch (status.kind()) {
    case WaitStatus::Kind::syscall_stop: {
      auto info = t.syscall_info();
      if (info.op != PTRACE_SYSCALL_INFO_ENTRY) return "returned from a syscall";
      Event seen;
      seen.nr = static_cast<std::int64_t>(info.entry.nr);
      std::copy(std::begin(info.entry.args), std::end(info.entry.args), seen.args.begin());
      if (const auto* si = find_syscall(seen.nr)) {
        for (std::size_t i = 0; i < si->args.size(); ++i)
          if (si->args[i].format == ArgFormat::s)
            (seen.path ? seen.path2 : seen.path) = t.read_c_string(RemotePtr(seen.args[i])).value_or("");
      }
      return "made " + render_call(seen);
    }
    case WaitStatus::Kind::signal_stop:
      return fmt::format("received {} at {:#x}", signal_name(status.code()), t.regs().rip);
    case WaitStatus::Kind::event_stop:
      return status.event() == PTRACE_EVENT_EXEC ? "executed a new program"
                                                 : fmt::format("stopped at ptrace event {}", status.event());
    default: return status.describe();
  }
}

void ReplaySession::diverge(const Event& e, const std::string& what) {
  throw Divergence(e.id, fmt::format("replay diverged at event {}: the recording has {}, but the program {}",
                                     e.id, render_event(e), what));
}

void ReplaySession::apply_exec(const Event& e) {
  if (e.args[2]) files_.check_on_disk(static_cast<std::int64_t>(e.args[2]));
  if (e.args[3]) files_.check_on_disk(static_cast<std::int64_t>(e.args[3]));
  if (!tracee_) {
    LaunchOptions start;
    start.path = reader_.meta(trace::meta::program).value_or(e.path.value_or(""));
    start.argv = reader_.argv();
    start.env = reader_.env();
    auto stack_limit = reader_.meta_int(trace::meta::stack_limit);
    if (stack_limit) start.stack_limit = *stack_limit < 0 ? RLIM_INFINITY : static_cast<rlim_t>(*stack_limit);
    start.cpu = current_cpu();
    start.own_process_group = true;
    pin_to_cpu(start.cpu);
    tracee_.emplace(launch(start));
  } else {
    // The program's own execve.
    WaitStatus entry = resume_and_wait();
    if (!entry.is_syscall_stop() || tracee_->syscall_info().op != PTRACE_SYSCALL_INFO_ENTRY ||
        tracee_->syscall_info().entry.nr != __NR_execve)
      diverge(e, describe_stop(entry));
    WaitStatus exec = resume_and_wait();
    if (!exec.is_event(PTRACE_EVENT_EXEC)) diverge(e, describe_stop(exec));
    tracee_->reopen_memory();
  }
  Tracee& t = *tracee_;
  InitialStack stack = prepare_initial_stack(t);
  if (stack.sp.addr() != e.args[0] || stack.top.addr() != e.args[1])
    diverge(e, fmt::format("started with its stack at {:#x}-{:#x} instead of {:#x}-{:#x} (the "
                           "environment, arguments or kernel differ from the recording's)",
                           stack.sp.addr(), stack.top.addr(), e.args[0], e.args[1]));
  // The recorded stack restores AT_RANDOM (the canary and pointer guard).
  write_memory(e);
  rand_ = RandPatcher();
  rand_.scan_process(t);
  WaitStatus exit = resume_and_wait();
  if (!exit.is_syscall_stop() || t.syscall_info().op != PTRACE_SYSCALL_INFO_EXIT) diverge(e, describe_stop(exit));
}

void ReplaySession::apply_signal(const Event& e) {
  int sig = static_cast<int>(e.nr);
  bool natural = e.args[0] == static_cast<std::uint64_t>(trace::SignalDelivery::natural);
  if (!natural && signal_sent_for_ != e.id) send_signal(sig);
  signal_sent_for_.reset();
  WaitStatus status = resume_and_wait();
  if (!status.is_signal_stop() || status.code() != sig) diverge(e, describe_stop(status));
  if (natural && tracee_->regs().rip != e.args[1])
    diverge(e, fmt::format("received {} at {:#x}", signal_name(sig), tracee_->regs().rip));
  if (!natural && e.info.size() >= sizeof(siginfo_t)) {
    siginfo_t info;
    std::memcpy(&info, e.info.data(), sizeof info);
    tracee_->set_siginfo(info);
  }
  resume_signal_ = sig;
}

void ReplaySession::apply_rdtsc(const Event& e) {
  WaitStatus status = resume_and_wait();
  Tracee& t = *tracee_;
  if (!status.is_signal_stop() || status.code() != SIGSEGV || t.regs().rip != e.args[0]) diverge(e, describe_stop(status));
  auto insn = tsc_instruction_at(t, RemotePtr(e.args[0]));
  if (!insn || insn->rdtscp != (e.nr == 1)) diverge(e, "is not at an rdtsc instruction there");
  emulate_tsc(t, *insn, TscValue{e.args[1], static_cast<std::uint32_t>(e.args[2])});
}

void ReplaySession::apply_rdrand(const Event& e) {
  WaitStatus status = resume_and_wait();
  Tracee& t = *tracee_;
  const RandSite* site = rand_.site_for_trap(t.regs().rip);
  if (!status.is_signal_stop() || status.code() != SIGTRAP || !site || site->addr != e.args[0])
    diverge(e, describe_stop(status));
  RandPatcher::emulate(t, *site, e.args[1]);
}

void ReplaySession::apply_exit(const Event& e) {
  Tracee& t = *tracee_;
  bool killed = e.args[0] == static_cast<std::uint64_t>(trace::ExitKind::killed);
  if (killed && e.nr == SIGKILL) {
    // SIGKILL came from outside and left no trace in the program: kill it at
    // the same place, right after the last recorded event.
    t.kill();
  } else {
    WaitStatus status = resume_and_wait();
    if (!status.is_exit()) diverge(e, describe_stop(status));
  }
  const WaitStatus& status = *t.exit_status();
  bool same = status.code() == e.nr && (status.kind() == WaitStatus::Kind::killed) == killed;
  if (!same) diverge(e, status.describe());
  ended_ = status;
}

void ReplaySession::run_to(std::uint64_t pc, const Event& e) {
  Tracee& t = *tracee_;
  if (t.regs().rip == pc) return;
  std::uint8_t original = 0;
  if (t.read_some(RemotePtr(pc), &original, 1) != 1) diverge(e, fmt::format("has no code at {:#x}", pc));
  static const std::uint8_t int3 = 0xcc;
  t.write_bytes(RemotePtr(pc), ByteView(&int3, 1));
  WaitStatus status = resume_and_wait();
  t.write_bytes(RemotePtr(pc), ByteView(&original, 1));
  if (!status.is_signal_stop() || status.code() != SIGTRAP || t.regs().rip != pc + 1)
    diverge(e, describe_stop(status));
  Registers regs = t.regs();
  regs.rip = pc;
  t.set_regs(regs);
}

void ReplaySession::apply_snapshot(const Event& e) {
  // Run into the stretch where the recording stopped the program, then put
  // its recorded state in place: same instruction, registers and memory.
  run_to(e.args[0], e);
  auto state = snapshot_registers(e);
  tracee_->set_regs(state.regs);
  if (!state.xstate.empty()) tracee_->set_xstate(state.xstate);
  write_memory(e);
}

Replayer::Replayer(const std::string& trace_path, OutputSink& sink)
    : session_(std::make_unique<ReplaySession>(trace_path, sink)) {}

Replayer::~Replayer() = default;

ReplayEnd Replayer::run_to_end() {
  while (session_->step()) {
  }
  ReplayEnd end;
  end.last_event = session_->current_event();
  if (session_->ended()) {
    end.kind = ReplayEnd::Kind::exited;
    end.status = *session_->ended();
    return end;
  }
  end.kind = ReplayEnd::Kind::incomplete;
  end.reason = session_->reader().meta(trace::meta::end_reason)
                   .value_or("the recorder stopped before the program ended");
  return end;
}

}  // namespace ttdb
