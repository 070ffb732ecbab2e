// ptrace by the recorded program, emulated. The kernel lets a task have one
// tracer, and ttdb is that of every recorded task, so a recorded tracer's
// requests never reach the kernel: ttdb answers each at the call's entry
// from what it knows of the tracee, the call is skipped, and the answer (its
// result and what it wrote) is recorded like any syscall's, which replay
// injects. What the tracer does to its tracee (memory and register writes,
// how it lets it go on) becomes a `ptrace` event in the tracee's stream
// where it stands stopped, which replay applies there.
//
// A tracee's stops (a signal about to be delivered, a syscall stop, an exec,
// a PTRACE_EVENT_STOP) hold it: ttdb does not resume it until its tracer
// does, reports the stop to the tracer's wait4 or waitid, and sends the
// tracer SIGCHLD as the kernel would (which also wakes a wait it blocks in:
// the wait is restarted and finds the stop). Its exit needs nothing: the
// tracer is its parent, whose real wait reports it.
#include <elf.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "recorder_state.h"
#include "ttdb/tracer/ptrace.h"

namespace ttdb::recording {

namespace {

using Stop = EmulatedTracee::Stop;

// A stopped task's wait status: signal (and ptrace event) in the second byte.
int stop_status(int sig, int event = 0) { return ((sig | (event << 8)) << 8) | 0x7f; }

constexpr std::uint64_t kSupportedOptions = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT |
                                            PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                                            PTRACE_O_TRACECLONE | PTRACE_O_TRACEVFORKDONE;

template <typename T>
ByteView bytes_of(const T& value) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(&value), sizeof value);
}

std::optional<Resume> resumption(long request) {
  switch (request) {
    case PTRACE_CONT: return Resume::cont;
    case PTRACE_SYSCALL: return Resume::syscall;
    case PTRACE_SINGLESTEP: return Resume::singlestep;
    default: return std::nullopt;
  }
}

trace::PtraceResume as_recorded(Resume how) {
  switch (how) {
    case Resume::syscall: return trace::PtraceResume::syscall;
    case Resume::singlestep: return trace::PtraceResume::singlestep;
    default: return trace::PtraceResume::cont;
  }
}

std::string request_text(long request) {
  std::string name = ptrace_request_name(static_cast<int>(request));
  return name == "PTRACE_?" ? fmt::format("{:#x}", request) : name;
}

// The options ttdb does not emulate, by name.
std::string unsupported_options(std::uint64_t options) {
  static constexpr std::pair<std::uint64_t, const char*> kNames[] = {
      {PTRACE_O_TRACESECCOMP, "PTRACE_O_TRACESECCOMP"}, {PTRACE_O_SUSPEND_SECCOMP, "PTRACE_O_SUSPEND_SECCOMP"}};
  std::string text;
  std::uint64_t rest = options & ~kSupportedOptions;
  for (auto [bit, name] : kNames)
    if (rest & bit) {
      text += (text.empty() ? "" : "|") + std::string(name);
      rest &= ~bit;
    }
  if (rest) text += fmt::format("{}{:#x}", text.empty() ? "" : "|", rest);
  return text;
}

bool changes_tracee(long request) {
  switch (request) {
    case PTRACE_POKETEXT: case PTRACE_POKEDATA: case PTRACE_POKEUSER: case PTRACE_SETREGS: case PTRACE_SETREGSET: return true;
    default: return false;
  }
}

// What the kernel says of a child's stop or end (`status`, as wait encodes
// it) in a siginfo_t; `stop_status` is its si_status for a stop.
siginfo_t child_siginfo(pid_t tid, int status, int stop_status) {
  siginfo_t info{};
  info.si_signo = SIGCHLD;
  info.si_pid = tid;
  info.si_uid = ::getuid();
  if (WIFSTOPPED(status)) {
    info.si_code = CLD_TRAPPED;
    info.si_status = stop_status;
  } else {
    info.si_code = WIFEXITED(status) ? CLD_EXITED : WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED;
    info.si_status = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
  }
  return info;
}

// Its registers as its tracer sees them: at a syscall's entry, the call it
// made, where ttdb may have made the kernel skip it (rseq, or a call ttdb answers).
Registers regs_for_tracer(Task& t) {
  Registers regs = t.tracee.regs();
  if (t.traced->stop == Stop::syscall_entry && t.pending)
    regs.orig_rax = static_cast<unsigned long long>(t.pending->call.nr);
  return regs;
}

}  // namespace

std::optional<std::int64_t> Recorder::answer_tracer_call(const SyscallArgs& call, Event& e) {
  switch (call.nr) {
    case __NR_ptrace: return emulate_ptrace(call, e);
    case __NR_wait4: case __NR_waitid: return emulate_wait(call, e);
    default: return std::nullopt;
  }
}

bool Recorder::give_tracer(Event& e, std::uint64_t addr, ByteView bytes) {
  if (!tracee().write_bytes(RemotePtr(addr), bytes)) return false;
  MemWrite write;
  write.addr = addr;
  write.size = bytes.size();
  write.data.assign(bytes.begin(), bytes.end());
  e.mem.push_back(std::move(write));
  return true;
}

Task* Recorder::tracee_of_caller(pid_t tid, bool stopped) {
  auto found = tasks_.find(tid);
  if (found == tasks_.end()) return nullptr;
  Task& t = *found->second;
  if (!t.traced || t.traced->tracer != task().tgid) return nullptr;
  if (stopped && !t.traced->stopped) return nullptr;
  return &t;
}

std::optional<std::int64_t> Recorder::emulate_ptrace(const SyscallArgs& call, Event& e) {
  long request = static_cast<long>(call.a[0]);
  auto pid = static_cast<pid_t>(call.a[1]);
  std::string where;  // why an emulated request is not emulated here
  switch (request) {
    case PTRACE_TRACEME: {
      if (task().traced) return -EPERM;
      pid_t parent = parent_of(task().tgid);
      if (!tasks_.count(parent)) {
        stop_recording(fmt::format("event {} is a PTRACE_TRACEME by the program ttdb started, whose tracer would be "
                                   "ttdb itself: record the program that traces it instead",
                                   writer_.last_event_id() + 1));
        return std::nullopt;
      }
      return start_tracing(task(), parent, false, 0);
    }
    case PTRACE_ATTACH: case PTRACE_SEIZE: {
      auto target = tasks_.find(pid);
      if (target == tasks_.end()) {
        stop_recording(fmt::format("event {} is a ptrace {} of process {}, which ttdb does not record: replay could "
                                   "not reproduce it",
                                   writer_.last_event_id() + 1, request_text(request), pid));
        return std::nullopt;
      }
      Task& t = *target->second;
      if (t.tgid == task().tgid || t.traced) return -EPERM;
      if (request == PTRACE_SEIZE && (call.a[3] & ~kSupportedOptions)) break;
      std::int64_t ret = start_tracing(t, task().tgid, request == PTRACE_SEIZE, request == PTRACE_SEIZE ? call.a[3] : 0);
      // Only a tracer's wait hears of a thread's end, or of a process not its child.
      t.traced->foreign = t.tgid != pid || parent_of(t.tgid) != task().tgid;
      // ATTACH stops it with SIGSTOP, which it gets like any signal.
      if (request == PTRACE_ATTACH) ::syscall(SYS_tgkill, t.tgid, pid, SIGSTOP);
      return ret;
    }
    default: {
      // Every other request is about a tracee of the caller's.
      bool needs_stop = request != PTRACE_KILL && request != PTRACE_INTERRUPT;
      Task* t = tracee_of_caller(pid, needs_stop);
      if (!t) return -ESRCH;
      std::int64_t ret = ptrace_on_tracee(*t, call, e);
      if (ret != -ENOSYS) return ret;
      if (changes_tracee(request) && t->traced && t->traced->stop == Stop::syscall_entry) where = " at its tracee's syscall entry";
      break;
    }
  }
  if (request == PTRACE_SETOPTIONS || request == PTRACE_SEIZE) where = fmt::format(" with option {}", unsupported_options(call.a[3]));
  stop_recording(fmt::format("event {} is a ptrace {} request{}, which ttdb does not emulate: replay could not "
                             "reproduce it",
                             writer_.last_event_id() + 1, request_text(request), where));
  return std::nullopt;
}

std::int64_t Recorder::start_tracing(Task& t, pid_t tracer, bool seized, std::uint64_t options) {
  EmulatedTracee traced;
  traced.tracer = tracer;
  traced.seized = seized;
  traced.options = options;
  t.traced = traced;
  // Its syscalls must all stop (the tracer may ask for syscall stops), so
  // the syscall buffer makes none of them in its process.
  if (t.space->shim) stop_buffering(t.tracee, t.space->shim);
  // ttdb answers the tracer's waits: not its shim.
  auto found = tasks_.find(tracer);
  if (found != tasks_.end() && found->second->space && !found->second->space->traces_others) {
    Space& waiting = *found->second->space;
    waiting.traces_others = true;
    if (waiting.shim) trace_waits_in_shim(found->second->tracee, waiting.shim);
  }
  return 0;
}

// The requests on a tracee (stopped for its tracer, but for KILL and
// INTERRUPT); -ENOSYS for those ttdb does not emulate.
std::int64_t Recorder::ptrace_on_tracee(Task& t, const SyscallArgs& call, Event& e) {
  long request = static_cast<long>(call.a[0]);
  std::uint64_t addr = call.a[2], data = call.a[3];
  EmulatedTracee& traced = *t.traced;
  auto give = [&](ByteView bytes) -> std::int64_t { return give_tracer(e, data, bytes) ? 0 : -EFAULT; };
  // A syscall-entry stop comes before the syscall's own event: a change of
  // the tracee there is placed only once its entry is (replay is brought
  // there first); exec, spawn and exit calls keep theirs to their events.
  bool changes_allowed = traced.stop != Stop::syscall_entry || t.entry_placed;
  if (auto how = resumption(request)) {
    if (data > 64) return -EIO;
    resume_for_tracer(t, *how, static_cast<int>(data));
    return 0;
  }
  switch (request) {
    case PTRACE_PEEKTEXT: case PTRACE_PEEKDATA: {
      std::uint64_t word = 0;
      if (t.tracee.read_some(RemotePtr(addr), &word, sizeof word) != sizeof word) return -EIO;
      return give(bytes_of(word));
    }
    case PTRACE_PEEKUSER: {
      if (addr % 8 || addr >= sizeof(struct user)) return -EIO;
      std::uint64_t word = 0;  // outside the registers (the debug registers...): 0, as ttdb never set them
      Registers regs = regs_for_tracer(t);
      if (addr < sizeof(Registers)) std::memcpy(&word, reinterpret_cast<const std::uint8_t*>(&regs) + addr, 8);
      return give(bytes_of(word));
    }
    case PTRACE_POKETEXT: case PTRACE_POKEDATA: {
      if (!changes_allowed) return -ENOSYS;
      if (!t.tracee.write_value(RemotePtr(addr), data)) return -EIO;
      rescan_for_tsc(t, addr, sizeof data);
      Event effect;
      MemWrite write;
      write.addr = addr;
      write.size = sizeof data;
      write.data.assign(bytes_of(data).begin(), bytes_of(data).end());
      effect.mem.push_back(std::move(write));
      emit_tracer_effect(t, trace::PtraceEffect::memory, std::move(effect));
      return 0;
    }
    case PTRACE_GETREGS: return give(bytes_of(regs_for_tracer(t)));
    case PTRACE_POKEUSER: {
      // A register, one word (strace's fault injection sets orig_rax and
      // rax so); the debug registers beyond them are not emulated.
      if (addr % 8 || addr >= sizeof(Registers) || !changes_allowed) return -ENOSYS;
      Registers regs = t.tracee.regs();
      std::memcpy(reinterpret_cast<std::uint8_t*>(&regs) + addr, &data, sizeof data);
      set_tracee_registers(t, regs);
      return 0;
    }
    case PTRACE_GETFPREGS: {
      user_fpregs_struct fp{};
      fallible_ptrace(PTRACE_GETFPREGS, t.tracee.tid(), nullptr, &fp);
      return give(bytes_of(fp));
    }
    case PTRACE_SETREGS: case PTRACE_SETREGSET: {
      if (!changes_allowed) return -ENOSYS;
      std::uint64_t from = data;
      if (request == PTRACE_SETREGSET) {
        if (addr != NT_PRSTATUS) return -ENOSYS;
        auto iov = tracee().try_read_bytes(RemotePtr(data), sizeof(iovec));
        if (!iov) return -EFAULT;
        iovec v;
        std::memcpy(&v, iov->data(), sizeof v);
        if (v.iov_len != sizeof(Registers)) return -ENOSYS;  // a partial set: not emulated
        from = reinterpret_cast<std::uint64_t>(v.iov_base);
      }
      auto bytes = tracee().try_read_bytes(RemotePtr(from), sizeof(Registers));
      if (!bytes) return -EFAULT;
      Registers regs;
      std::memcpy(&regs, bytes->data(), sizeof regs);
      set_tracee_registers(t, regs);
      return 0;
    }
    case PTRACE_GETREGSET: {
      Bytes set;
      if (addr == NT_PRSTATUS) {
        Registers regs = regs_for_tracer(t);
        set.assign(bytes_of(regs).begin(), bytes_of(regs).end());
      } else if (addr == NT_PRFPREG) {
        user_fpregs_struct fp{};
        fallible_ptrace(PTRACE_GETFPREGS, t.tracee.tid(), nullptr, &fp);
        set.assign(bytes_of(fp).begin(), bytes_of(fp).end());
      } else if (addr == NT_X86_XSTATE) {
        // The extended state (AVX and on), as the kernel gives it to ttdb.
        set.resize(64 * 1024);
        iovec whole{set.data(), set.size()};
        if (!fallible_ptrace(PTRACE_GETREGSET, t.tracee.tid(), reinterpret_cast<void*>(NT_X86_XSTATE), &whole)) return -EINVAL;
        set.resize(whole.iov_len);
      } else {
        return -ENOSYS;
      }
      auto iov = tracee().try_read_bytes(RemotePtr(data), sizeof(iovec));
      if (!iov) return -EFAULT;
      iovec v;
      std::memcpy(&v, iov->data(), sizeof v);
      std::size_t n = std::min(v.iov_len, set.size());
      v.iov_len = n;
      if (!give_tracer(e, reinterpret_cast<std::uint64_t>(v.iov_base), ByteView(set.data(), n))) return -EFAULT;
      return give_tracer(e, data, bytes_of(v)) ? 0 : -EFAULT;
    }
    case PTRACE_GET_SYSCALL_INFO: {
      // ttdb's own stop of the tracee is of the same kind as the one its
      // tracer sees (a syscall entry or exit, or neither): the kernel's answer
      // to ttdb is the answer, cut to the tracer's size.
      __ptrace_syscall_info info{};
      long size = 0;
      if (!fallible_ptrace(PTRACE_GET_SYSCALL_INFO, t.tracee.tid(), reinterpret_cast<void*>(sizeof info), &info, &size))
        return -ESRCH;
      if (info.op == PTRACE_SYSCALL_INFO_ENTRY && t.pending) info.entry.nr = static_cast<std::uint64_t>(t.pending->call.nr);
      auto n = std::min<std::size_t>(addr, static_cast<std::size_t>(size));
      if (n && !give_tracer(e, data, ByteView(reinterpret_cast<const std::uint8_t*>(&info), n))) return -EFAULT;
      return size;
    }
    case PTRACE_SETOPTIONS:
      if (data & ~kSupportedOptions) return -ENOSYS;
      traced.options = data;
      return 0;
    case PTRACE_GETEVENTMSG: return give(bytes_of(traced.event_message));
    case PTRACE_SETSIGMASK: {
      if (!changes_allowed) return -ENOSYS;
      if (addr != sizeof(std::uint64_t)) return -EINVAL;
      auto bytes = tracee().try_read_bytes(RemotePtr(data), sizeof(std::uint64_t));
      if (!bytes) return -EFAULT;
      std::uint64_t mask = 0;
      std::memcpy(&mask, bytes->data(), sizeof mask);
      mask &= ~(sigbit(SIGKILL) | sigbit(SIGSTOP));
      if (!fallible_ptrace(PTRACE_SETSIGMASK, t.tracee.tid(), reinterpret_cast<void*>(addr), &mask)) return -ESRCH;
      Event effect;
      effect.args[0] = mask;
      emit_tracer_effect(t, trace::PtraceEffect::signal_mask, std::move(effect));
      return 0;
    }
    case PTRACE_SETSIGINFO: {
      if (!changes_allowed) return -ENOSYS;
      auto bytes = tracee().try_read_bytes(RemotePtr(data), sizeof(siginfo_t));
      if (!bytes) return -EFAULT;
      // Only a signal stop delivers what it holds.
      if (traced.stop == Stop::signal) {
        std::memcpy(&traced.siginfo, bytes->data(), sizeof traced.siginfo);
        traced.siginfo_set = true;
      }
      return 0;
    }
    case PTRACE_GETSIGMASK: {
      if (addr != sizeof(std::uint64_t)) return -EINVAL;
      std::uint64_t mask = 0;
      if (!fallible_ptrace(PTRACE_GETSIGMASK, t.tracee.tid(), reinterpret_cast<void*>(addr), &mask)) return -ESRCH;
      return give(bytes_of(mask));
    }
    case PTRACE_LISTEN:
      if (!traced.seized || traced.stop != Stop::group) return -EIO;
      // It stays in its job-control stop, as without a tracer, until SIGCONT
      // or its tracer's interrupt traps it once more.
      if (std::exchange(traced.continued, false)) {
        // The SIGCONT came already: the kernel traps it once more at once.
        stop_for_tracer(t, Stop::event, stop_status(SIGTRAP, PTRACE_EVENT_STOP));
        return 0;
      }
      traced.stopped = false;
      traced.wait_status.reset();
      traced.listening = true;
      hold_in_job_stop(t);
      return 0;
    case PTRACE_GETSIGINFO: {
      // An attached tracee's job-control stop has no signal to give; a
      // seized one's is the kernel's PTRACE_EVENT_STOP, as ttdb (which seizes) sees it too.
      if (traced.stop == Stop::group && !traced.seized) return -EINVAL;
      siginfo_t info = traced.stop == Stop::signal ? traced.siginfo : t.tracee.siginfo();
      return give(bytes_of(info));
    }
    case PTRACE_KILL:
      t.traced.reset();
      ::kill(t.tgid, SIGKILL);
      return 0;
    case PTRACE_DETACH:
      resume_for_tracer(t, Resume::cont, static_cast<int>(data));
      t.traced.reset();
      return 0;
    case PTRACE_INTERRUPT:
      if (!traced.seized) return -EIO;
      if (!traced.stopped) {
        traced.interrupt_asked = true;
        // Stopped by ttdb now, it may be about to run ttdb's own syscalls
        // (after an exec), which an interrupt's stop would break into.
        if (t.stopped) {
          traced.interrupt_unsent = true;
        } else {
          traced.interrupt_sent = true;
          t.tracee.interrupt();
        }
      }
      return 0;
    default: return -ENOSYS;
  }
}

std::optional<std::int64_t> Recorder::emulate_wait(const SyscallArgs& call, Event& e) {
  // Which tracees it waits for: one, or any (a process group is taken as any).
  bool waitid = call.nr == __NR_waitid;
  pid_t wanted = 0;
  if (waitid) {
    if (call.a[0] == P_PIDFD) return std::nullopt;
    if (call.a[0] == P_PID) wanted = static_cast<pid_t>(call.a[1]);
  } else if (static_cast<int>(call.a[0]) > 0) {
    wanted = static_cast<pid_t>(call.a[0]);
  }
  auto options = static_cast<int>(waitid ? call.a[3] : call.a[2]);
  Task* found = nullptr;
  for (auto& [tid, t] : tasks_)
    if (t->traced && t->traced->tracer == task().tgid && t->traced->wait_status && (!wanted || wanted == tid)) {
      found = t.get();
      break;
    }
  if (!found) {
    if (auto ended = report_ended_tracee(call, e, wanted)) return ended;
    // The kernel's to answer (a real child's end), or to wait for; but it
    // would say ECHILD for a tracee that is not the caller's child.
    if (!waits_for_foreign_tracee(wanted)) return std::nullopt;
    if (options & WNOHANG) {
      siginfo_t none{};
      if (waitid && call.a[2] && !give_tracer(e, call.a[2], bytes_of(none))) return -EFAULT;
      return 0;
    }
    // Held at the call's entry until a stop or an end can answer it.
    waiting_tracers_.insert(tracee().tid());
    return std::nullopt;
  }
  int status = *found->traced->wait_status;
  if (!(waitid && (options & WNOWAIT))) found->traced->wait_status.reset();
  return answer_wait(call, e, found->tracee.tid(), status);
}

std::int64_t Recorder::answer_wait(const SyscallArgs& call, Event& e, pid_t tid, int status) {
  // wait4's status word, or waitid's siginfo_t, as the kernel writes them.
  bool waitid = call.nr == __NR_waitid;
  std::uint64_t usage_at = waitid ? call.a[4] : call.a[3];
  rusage usage{};
  if (usage_at && !give_tracer(e, usage_at, bytes_of(usage))) return -EFAULT;
  if (!waitid) {
    if (call.a[1] && !give_tracer(e, call.a[1], bytes_of(status))) return -EFAULT;
    return tid;
  }
  // (For a stop, waitid's si_status keeps the ptrace event too.)
  siginfo_t info = child_siginfo(tid, status, status >> 8);
  if (call.a[2] && !give_tracer(e, call.a[2], bytes_of(info))) return -EFAULT;
  return 0;
}

bool Recorder::waits_for_foreign_tracee(pid_t wanted) {
  // A wait for any child goes to the kernel while the caller has children
  // of its own, whose ends it reports (an emulated stop interrupts it).
  // (Parents are read from /proc only for a program that traces: a shell's
  // every wait4 read every process's stat file.)
  bool has_foreign = std::any_of(tasks_.begin(), tasks_.end(), [&](const auto& entry) {
    const auto& [tid, t] = entry;
    return t->traced && t->traced->tracer == task().tgid && t->traced->foreign && (!wanted || wanted == tid);
  });
  if (!has_foreign) return false;
  bool has_children = !wanted && std::any_of(tasks_.begin(), tasks_.end(), [&](const auto& entry) {
    const auto& [tid, t] = entry;
    return t->tgid == tid && !t->fresh && parent_of(tid) == task().tgid;
  });
  return !has_children;
}

std::optional<std::int64_t> Recorder::report_ended_tracee(const SyscallArgs& call, Event& e, pid_t wanted) {
  auto ended = std::find_if(ended_tracees_.begin(), ended_tracees_.end(), [&](const EndedTracee& end) {
    return end.tracer == task().tgid && (!wanted || wanted == end.tid);
  });
  if (ended == ended_tracees_.end()) return std::nullopt;
  EndedTracee end = *ended;
  if (!(call.nr == __NR_waitid && (call.a[3] & WNOWAIT))) ended_tracees_.erase(ended);
  return answer_wait(call, e, end.tid, end.status);
}

void Recorder::report_end_to_tracer(const WaitStatus& status) {
  // A parent's wait reports its child's end without ttdb; a foreign
  // tracer's wait is ttdb's to answer.
  if (!task().traced || !task().traced->foreign) return;
  pid_t tracer = task().traced->tracer;
  ended_tracees_.push_back(EndedTracee{tracer, tracee().tid(), status.raw()});
  notify_tracer(tracer, tracee().tid(), status.raw());
  wake_tracer_waits(tracer);
}

void Recorder::stop_for_tracer(Task& t, Stop kind, int status) {
  EmulatedTracee& traced = *t.traced;
  traced.stopped = true;
  traced.stop = kind;
  traced.wait_status = status;
  TTDB_LOG(record, "task {} stops for its tracer {}: status {:#x}", t.tracee.tid(), traced.tracer, status);
  notify_tracer(traced.tracer, t.tracee.tid(), status);
  wake_tracer_waits(traced.tracer);
}

void Recorder::notify_tracer(pid_t tracer, pid_t tid, int status) {
  // The kernel's SIGCHLD says which tracee and why; ttdb's kill() cannot
  // (only a process itself may queue a positive si_code), so what the
  // tracer receives is put right as it takes it (tracer_sigchld).
  siginfo_t info = child_siginfo(tid, status, WSTOPSIG(status));
  // A SIGCHLD already pending takes no other (standard signals do not queue).
  tracer_sigchld_.try_emplace(tracer, info);
  ::kill(tracer, SIGCHLD);
}

std::optional<siginfo_t> Recorder::tracer_sigchld(pid_t process, const siginfo_t& received) {
  if (received.si_signo != SIGCHLD || received.si_code != SI_USER || received.si_pid != ::getpid()) return std::nullopt;
  auto pending = tracer_sigchld_.extract(process);
  if (pending.empty()) return std::nullopt;
  return pending.mapped();
}

void Recorder::wake_tracer_waits(pid_t tracer) {
  // A wait the kernel has (ttdb had nothing to report when it began) would
  // not end for an emulated stop, and SIGCHLD may be blocked (gdb blocks
  // it): ttdb's interrupt ends it, the kernel restarts it, and ttdb answers
  // the restarted call.
  for (auto& [tid, t] : tasks_) {
    if (t->tgid != tracer || t->stopped || !t->pending || t->pending->answered) continue;
    if (t->pending->call.nr == __NR_wait4 || t->pending->call.nr == __NR_waitid) t->tracee.interrupt();
  }
  // One ttdb holds at its wait's entry is answered now, and skips the call.
  std::vector<pid_t> held(waiting_tracers_.begin(), waiting_tracers_.end());
  for (pid_t tid : held) {
    Task& waiter = *tasks_.at(tid);
    if (waiter.tgid != tracer) continue;
    waiting_tracers_.erase(tid);
    Task* caller = std::exchange(task_, &waiter);
    auto answer = emulate_wait(waiter.pending->call, waiter.pending->event);
    task_ = caller;
    if (!answer) continue;  // it waits for another tracee (and is held again)
    Registers regs = waiter.tracee.regs();
    regs.orig_rax = static_cast<unsigned long long>(-1);
    waiter.tracee.set_regs(regs);
    waiter.pending->answered = answer;
  }
}

bool Recorder::group_stop_for_tracer(int sig) {
  if (!task().traced) return false;
  EmulatedTracee& traced = *task().traced;
  // This stop is also the one an interrupt asked for, or one a listening
  // tracee makes for a new signal.
  traced.interrupt_asked = traced.interrupt_unsent = traced.listening = false;
  task().job_stopped = false;
  // A seized tracee's is a PTRACE_EVENT_STOP; an attached one's names the signal alone.
  stop_for_tracer(task(), Stop::group, traced.seized ? stop_status(sig, PTRACE_EVENT_STOP) : stop_status(sig));
  return true;
}

void Recorder::listen_ended_for_tracer() {
  if (!task().traced || !std::exchange(task().traced->listening, false)) return;
  // SIGCONT ended the stop it listened in: the kernel traps it once more,
  // with SIGTRAP (the SIGCONT itself comes next, as a signal to deliver).
  stop_for_tracer(task(), Stop::event, stop_status(SIGTRAP, PTRACE_EVENT_STOP));
}

bool Recorder::signal_for_tracer(const siginfo_t& info) {
  if (!task().traced) return false;
  task().traced->siginfo = info;
  stop_for_tracer(task(), Stop::signal, stop_status(info.si_signo));
  return true;
}

void Recorder::syscall_stop_for_tracer(Stop kind) {
  if (!task_ || !task().traced) return;
  // The kernel's SIGTRAP after a traced exec (without TRACEEXEC), sent once
  // ttdb has done its own work in the new program: delivered right after
  // the execve returns, a boundary.
  if (kind == Stop::syscall_exit && std::exchange(task().traced->trap_after_exec, false))
    ::syscall(SYS_tgkill, task().tgid, tracee().tid(), SIGTRAP);
  // A single step over a syscall instruction ends when the call returns:
  // the kernel's trap (which delivers nothing) comes before the next instruction.
  if (kind == Stop::syscall_exit && std::exchange(task().traced->interrupt_asked, false)) {
    task().traced->interrupt_unsent = false;
    stop_for_tracer(task(), Stop::event, stop_status(SIGTRAP, PTRACE_EVENT_STOP));
    return;
  }
  if (kind == Stop::syscall_exit && task().traced->resumed == Resume::singlestep) {
    stop_for_tracer(task(), Stop::event, stop_status(SIGTRAP));
    return;
  }
  if (task().traced->resumed != Resume::syscall) return;
  int trap = SIGTRAP | (task().traced->options & PTRACE_O_TRACESYSGOOD ? 0x80 : 0);
  stop_for_tracer(task(), kind, stop_status(trap));
}

void Recorder::exec_for_tracer(pid_t former) {
  if (!task().traced) return;
  if (task().traced->options & PTRACE_O_TRACEEXEC) {
    task().traced->event_message = static_cast<unsigned long>(former);
    stop_for_tracer(task(), Stop::event, stop_status(SIGTRAP, PTRACE_EVENT_EXEC));
  } else {
    task().traced->trap_after_exec = true;
  }
}

void Recorder::spawn_for_tracer(Task& parent, Task& child, int event, std::uint64_t flags) {
  const EmulatedTracee& by = *parent.traced;
  // The kernel attaches the child as its parent is attached, with the same
  // options; it starts stopped: with SIGSTOP, or a PTRACE_EVENT_STOP when seized.
  start_tracing(child, by.tracer, by.seized, by.options);
  pid_t real_parent = flags & CLONE_PARENT ? parent_of(parent.tgid) : parent.tgid;
  child.traced->foreign = (flags & CLONE_THREAD) || real_parent != by.tracer;
  if (by.seized) {
    stop_for_tracer(child, Stop::event, stop_status(SIGTRAP, PTRACE_EVENT_STOP));
  } else {
    child.traced->siginfo = siginfo_t{};
    child.traced->siginfo.si_signo = SIGSTOP;
    stop_for_tracer(child, Stop::signal, stop_status(SIGSTOP));
  }
  parent.traced->event_message = static_cast<unsigned long>(child.tracee.tid());
  stop_for_tracer(parent, Stop::event, stop_status(SIGTRAP, event));
}

bool Recorder::vfork_done_for_tracer(pid_t child) {
  if (!(task().traced->options & PTRACE_O_TRACEVFORKDONE)) return false;
  task().traced->event_message = static_cast<unsigned long>(child);
  task().traced->exit_stop_owed = true;
  stop_for_tracer(task(), Stop::event, stop_status(SIGTRAP, PTRACE_EVENT_VFORK_DONE));
  return true;
}

void Recorder::exit_for_tracer() {
  if (!task().traced) return;
  // Only SIGKILL ends a task held for its tracer (one sent to it with kill(),
  // not PTRACE_KILL): nothing holds it any more, and the kernel's SIGKILL
  // exit does not stop for the tracer.
  task().traced->stopped = false;
  task().traced->wait_status.reset();
  auto status = static_cast<int>(tracee().event_message());  // its exit status, as wait encodes it
  if (!(task().traced->options & PTRACE_O_TRACEEXIT) || (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) return;
  task().traced->event_message = static_cast<unsigned long>(status);
  stop_for_tracer(task(), Stop::event, stop_status(SIGTRAP, PTRACE_EVENT_EXIT));
}

bool Recorder::interrupt_for_tracer(const Boundary& previous) {
  if (!task().traced) return false;
  task().traced->interrupt_sent = false;
  if (!std::exchange(task().traced->interrupt_asked, false)) return false;
  std::uint64_t pc = tracee().regs().rip;
  if (space().shim && (space().shim.contains(pc) || space().sites.where(pc) != SyscallPatcher::Where::elsewhere)) {
    // In ttdb's code, whose state no snapshot may name: the stop waits for
    // the end of the syscall it makes there (all of a tracee's are traced).
    task().traced->interrupt_asked = true;
    return true;
  }
  drain();
  // Stopped in its own code, where nothing but its whole state names the place.
  if (!previous.at_unmoved_exit(tracee().regs())) emit(snapshot());
  task().boundary = previous;
  task().traced->event_message = 0;
  stop_for_tracer(task(), Stop::event, stop_status(SIGTRAP, PTRACE_EVENT_STOP));
  return true;
}

void Recorder::send_tracer_interrupt(Task& t) {
  // Into a syscall, it stops for its tracer at the syscall's end instead.
  if (!t.traced || !t.traced->interrupt_unsent || t.expect_exit_stop) return;
  t.traced->interrupt_unsent = false;
  t.traced->interrupt_sent = true;
  t.tracee.interrupt();
}

void Recorder::absorb_tracer_interrupt() {
  // Its stop would come in the middle of ttdb's own syscalls: the tracer's
  // stop is given at this syscall's end instead (syscall_stop_for_tracer).
  if (task().traced && std::exchange(task().traced->interrupt_sent, false)) tracee().expect_stray_interrupt();
}

void Recorder::resume_for_tracer(Task& t, Resume how, int sig) {
  EmulatedTracee& traced = *t.traced;
  // Only a signal-delivery stop delivers a signal (the kernel ignores one
  // given at other stops).
  int delivered = traced.stopped && traced.stop == Stop::signal ? sig : 0;
  bool at_entry = traced.stopped && traced.stop == Stop::syscall_entry;
  traced.stopped = false;
  traced.wait_status.reset();
  traced.resumed = how;
  t.resume_signal = delivered;
  Event e;
  e.args[0] = static_cast<std::uint64_t>(delivered);
  e.args[1] = static_cast<std::uint64_t>(as_recorded(how));
  // The signal goes with the siginfo its tracer set, which replay sets too.
  if (std::exchange(traced.siginfo_set, false) && delivered) {
    fallible_ptrace(PTRACE_SETSIGINFO, t.tracee.tid(), nullptr, &traced.siginfo);
    e.info.assign(bytes_of(traced.siginfo).begin(), bytes_of(traced.siginfo).end());
  }
  emit_tracer_effect(t, trace::PtraceEffect::resume, std::move(e));
  if (std::exchange(traced.exit_stop_owed, false)) {
    Task* caller = std::exchange(task_, &t);
    syscall_stop_for_tracer(Stop::syscall_exit);
    task_ = caller;
  }
  // A write to ttdb's output waited at its entry without its turn.
  if (at_entry && tasks_.size() > 1 && t.pending) {
    Task* caller = std::exchange(task_, &t);
    if (writes_output(t.pending->call)) take_output_turn();
    task_ = caller;
  }
}

void Recorder::set_tracee_registers(Task& t, const Registers& regs) {
  t.tracee.set_regs(regs);
  Event effect;
  effect.info.assign(bytes_of(regs).begin(), bytes_of(regs).end());
  emit_tracer_effect(t, trace::PtraceEffect::registers, std::move(effect));
}

void Recorder::emit_tracer_effect(Task& t, trace::PtraceEffect what, Event e) {
  e.kind = EventKind::ptrace;
  e.tid = t.tracee.tid();
  e.nr = static_cast<std::int64_t>(what);
  emit(std::move(e));
}

void Recorder::release_tracees(pid_t tracer) {
  for (auto& [tid, t] : tasks_) {
    if (!t->traced || t->traced->tracer != tracer) continue;
    if (t->traced->options & PTRACE_O_EXITKILL) {
      t->traced.reset();
      ::kill(t->tgid, SIGKILL);
      continue;
    }
    // Detached as its tracer ends: a signal it stopped to be given is
    // dropped, as the kernel drops it, and a job-control stop goes on.
    bool job_stop = t->traced->stopped ? t->traced->stop == Stop::group : t->traced->listening;
    if (t->traced->stopped) resume_for_tracer(*t, Resume::cont, 0);
    t->traced.reset();
    if (job_stop && !t->job_stopped) hold_in_job_stop(*t);
  }
}

}  // namespace ttdb::recording
