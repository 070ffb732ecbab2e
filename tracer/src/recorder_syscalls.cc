// The recorder at syscall stops: what each call means for the trace, the
// settings of ttdb's the program must not see or change, and the memory a
// call changes besides what syscalls.def says.
#include "moved_output.h"
#include "recorder_state.h"
#include <sys/shm.h>

namespace ttdb::recording {

void Recorder::on_syscall_stop() {
  auto info = tracee().syscall_info();
  // Stopping at every syscall (the program filters its own), the shim's
  // calls stop too: its records have them already. Only those the seccomp
  // filter would have let through, with the secret: a program's own call
  // from the shim's instruction is recorded like any other. (At its exit,
  // expect_exit_stop says which kind of entry it had.)
  if ((space().view.own_seccomp || task().traced) && space().shim && info.instruction_pointer == space().shim.syscall_instruction() + 2 &&
      ((info.op == PTRACE_SYSCALL_INFO_ENTRY &&
        is_untraced_shim_call(shim_setup_, info.instruction_pointer, static_cast<long>(info.entry.nr), info.entry.args)) ||
       (info.op == PTRACE_SYSCALL_INFO_EXIT && !task().expect_exit_stop)))
    return;
  if (info.op != PTRACE_SYSCALL_INFO_EXIT && vdso_clock_made_syscall(info.instruction_pointer)) return;
  if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
    on_syscall_entry(static_cast<long>(info.entry.nr), info.entry.args);
  } else if (info.op == PTRACE_SYSCALL_INFO_SECCOMP) {
    // The program's own filter asked for a tracer (ttdb's asks with no
    // data): it has none but ttdb, so the call fails as it does natively.
    if (info.seccomp.ret_data != 0) {
      Registers regs = tracee().regs();
      regs.orig_rax = ~0ull;
      regs.rax = static_cast<std::uint64_t>(-ENOSYS);
      tracee().set_regs(regs);
    }
    // Stopped at the entry already (the program has a filter of its own):
    // it goes on into the kernel, which needs no turn; waiting for one
    // there, it would take the turn into a blocking call with it.
    if (task().expect_exit_stop) {
      task().entering = true;
      return;
    }
    if (libraries_due(static_cast<long>(info.seccomp.nr), info.seccomp.args)) {
      patch_libraries_at_entry();
      return;
    }
    on_syscall_entry(static_cast<long>(info.seccomp.nr), info.seccomp.args);
  } else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
    task().expect_exit_stop = false;
    end_output_turn(tracee().tid());
    on_syscall_exit(info);
  }
}

void Recorder::on_syscall_entry(long nr, const std::uint64_t* args) {
  Tracee& t = tracee();
  task().last_delivered = 0;  // a handler ran to here, or no signal came
  drain();
  space().calls += 1;
  // Whatever the recorder asked the shim for is moot now: this is a boundary.
  if (task().held.empty()) set_shim_flags(false, false);
  task().expect_exit_stop = true;
  SyscallArgs call;
  call.nr = nr;
  std::copy(args, args + 6, call.a);
  const SyscallInfo* si = find_syscall(call.nr);
  keep_ttdb_settings(call);
  watch_code_writes(call);
  unpatch_before_call(t, space().sites, space().rand, call.nr, call.a);  // (as replay does at this call)
  task().entering = true;
  task().entry_placed = false;
  if (turns().active) {
    task().entered_at = ++ticks_;
    // Its code stops here; another thread's may run while it is in the
    // kernel. Not for the calls replay runs for real, which never wait: two
    // threads' mmaps at once would leave the kernel to order them. One that
    // exits keeps the turn until it is gone (the others may wait for what
    // the kernel does at its end: clear its tid, wake its joiner).
    bool keeps_turn = si && (si->policy == ReplayPolicy::exit || si->policy == ReplayPolicy::execute ||
                             si->policy == ReplayPolicy::execute_set_ret || si->policy == ReplayPolicy::mmap ||
                             si->policy == ReplayPolicy::shm);
    // But the first thread's end (pthread_exit in main) is reported only
    // once the others have ended: they must run meanwhile.
    if (call.nr == __NR_exit && t.tid() == task().tgid) keeps_turn = false;
    // A PI lock's release hands it to a waiter, writing the lock word in
    // the kernel: nothing else runs until that is done (it never waits).
    if (call.nr == __NR_futex && ((call.a[1] & FUTEX_CMD_MASK) == FUTEX_UNLOCK_PI || (call.a[1] & FUTEX_CMD_MASK) == FUTEX_TRYLOCK_PI))
      keeps_turn = true;
    // A fork copies the memory as it is while the kernel copies it: another
    // thread's code must not change it meanwhile (a lock word glibc's fork
    // holds, say), or the child starts from a state replay never had. Not
    // a vfork, which waits in the kernel for its child.
    if (si && si->policy == ReplayPolicy::spawn && !spawns_vfork(t, call)) keeps_turn = true;
    if (turns().turn == t.tid() && !keeps_turn) turns().turn = 0;
  }
  for (auto [start, end] : remapped_ranges(call)) {
    if (!space().shim || !touches_ttdb_code(start, end)) continue;
    stop_recording(fmt::format(
        "the program called {} at event {} on memory where ttdb keeps its syscall buffer ({:#x}-{:#x}); record it "
        "with --no-syscall-buffer",
        syscall_name(call.nr), writer_.last_event_id() + 1, start, end));
    return;
  }

  Event e;
  e.kind = EventKind::syscall;
  e.tid = t.tid();
  e.nr = call.nr;
  std::copy(call.a, call.a + 6, e.args.begin());
  if (si) {
    for (std::size_t i = 0; i < si->args.size(); ++i) {
      if (si->args[i].format != ArgFormat::s) continue;
      auto text = t.read_c_string(RemotePtr(call.a[i]));
      (e.path ? e.path2 : e.path) = text.value_or("");
    }
  }
  if (has_input(si)) {
    Bytes input = gather_input(t, si, call);
    e.digest = digest64(input);
    e.preview.assign(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(std::min(input.size(), kPreviewBytes)));
  }
  if (si && si->policy == ReplayPolicy::rseq) {
    // Skip it: the kernel answers ENOSYS and glibc falls back to getcpu.
    Registers regs = t.regs();
    regs.orig_rax = static_cast<unsigned long long>(-1);
    t.set_regs(regs);
  }
  // ptrace by the program, and the waits that report its tracees' stops,
  // are ttdb's to answer: the kernel skips them.
  auto answered = answer_tracer_call(call, e);
  if (outcome_) return;
  if (answered) {
    Registers regs = t.regs();
    regs.orig_rax = static_cast<unsigned long long>(-1);
    t.set_regs(regs);
  }
  syscall_stop_for_tracer(EmulatedTracee::Stop::syscall_entry);
  bool held = task().traced && task().traced->stopped;
  if (si && si->policy == ReplayPolicy::exit) {
    emit(std::move(e));  // it never returns
    return;
  }
  // (Held at its entry, it takes its turn when its tracer lets it go.)
  if (tasks_.size() > 1 && !held && writes_output(call)) take_output_turn();
  task().pending = PendingSyscall{call, std::move(e), answered, trap_action_set(t, call.nr, call.a)};
  // Held at its entry for its tracer, whose requests (resuming it, with a
  // signal or not) act on it there: replay brings it to this entry first.
  if (held && !task().entry_placed && places_entry_for_tracer(si)) place_entry(task(), task().pending->event);
  // Sent now, held signals interrupt this syscall if it blocks, and are
  // delivered right after its exit either way: a boundary replay can find.
  inject_held_signals();
}

bool Recorder::fails_when_woken(long nr) {
  switch (nr) {
    case __NR_semop: case __NR_semtimedop: case __NR_rt_sigtimedwait:
    case __NR_epoll_wait: case __NR_epoll_pwait: case __NR_epoll_pwait2:
    case __NR_io_getevents: case __NR_io_pgetevents:
      return true;
    default: return false;
  }
}

bool Recorder::interrupted_by_ignored_signals(Tracee& t) {
  std::uint64_t pending = t.pending_signals() & ~t.signal_mask();
  return pending && (pending & ~discarded_signals(t.tid())) == 0;
}

std::uint64_t Recorder::discarded_signals(pid_t tid) {
  auto signals = signal_state(tid);
  if (!signals) return 0;
  // Ignored by default: SIGCHLD, SIGWINCH, SIGURG. Not SIGCONT: a stop and
  // continue makes calls fail with EINTR natively too, and its stop says
  // when a job-stopped task goes on.
  std::uint64_t defaults = (sigbit(SIGCHLD) | sigbit(SIGWINCH) | sigbit(SIGURG)) & ~signals->caught;
  return (signals->ignored | defaults) & ~sigbit(SIGCONT);
}

bool Recorder::places_entry_for_tracer(const SyscallInfo* si) {
  // The calls whose events replay begins by running the task to its entry
  // itself (new programs and processes, an end) keep that.
  if (!si) return true;
  switch (si->policy) {
    case ReplayPolicy::execve: case ReplayPolicy::exit: case ReplayPolicy::spawn: return false;
    default: return true;
  }
}

bool Recorder::spawns_vfork(Tracee& t, const SyscallArgs& call) {
  switch (call.nr) {
    case __NR_vfork: return true;
    case __NR_clone: return (call.a[0] & CLONE_VFORK) != 0;
    case __NR_clone3: {
      std::uint64_t flags = 0;
      t.read_some(RemotePtr(call.a[0]), &flags, sizeof flags);
      return (flags & CLONE_VFORK) != 0;
    }
    default: return false;
  }
}

bool Recorder::locks_pi_futex(const SyscallArgs& call) {
  int op = static_cast<int>(call.a[1]) & FUTEX_CMD_MASK;
  return call.nr == __NR_futex && (op == FUTEX_LOCK_PI || op == FUTEX_LOCK_PI2);
}

void Recorder::settle_pi_lock(Task& t) {
  // The kernel marks the lock word (FUTEX_WAITERS) as the thread goes to
  // sleep, and its owner's unlock sees the mark or not: a race with the
  // owner's code. It goes into the kernel alone, until it sleeps there or
  // is back, and the word as it left it goes into its `blocked` event,
  // which replay writes at the same point.
  resume(t);
  pid_t tid = t.tracee.tid();
  for (int i = 0; i < 2000; ++i) {
    if (task_state(tid) != 'R') break;
    ::sched_yield();
  }
  place_entries_before(t, t.entered_at);
  Event blocked = t.pending->event;
  blocked.kind = EventKind::blocked;
  blocked.mem.clear();
  capture_memory(t.tracee, t.pending->call.a[0], sizeof(std::uint32_t), blocked.mem);
  place_entry(t, blocked);
}

void Recorder::keep_ttdb_settings(const SyscallArgs& call) {
  // The registers only when they change: reading them costs every traced call a ptrace.
  Tracee& t = tracee();
  if (call.nr == __NR_prctl && call.a[0] == PR_SET_TSC && call.a[1] != PR_TSC_SIGSEGV) {
    Registers regs = t.regs();
    regs.rsi = PR_TSC_SIGSEGV;
    t.set_regs(regs);
  } else if (call.nr == __NR_personality && call.a[0] != 0xffffffff && !(call.a[0] & ADDR_NO_RANDOMIZE)) {
    Registers regs = t.regs();
    regs.rdi = call.a[0] | ADDR_NO_RANDOMIZE;
    t.set_regs(regs);
  } else {
    drop_untraced_flag(t, call);
  }
}

bool recorder_no_new_privs() {
  static const bool set = ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
  return set;
}

namespace {

// Where the digits after `field` are in `text`: [first, second); nullopt
// when the field is not there.
std::optional<std::pair<std::size_t, std::size_t>> number_after(std::string_view text, std::string_view field) {
  auto at = text.find(field);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t digits = at + field.size(), end = digits;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  return std::make_pair(digits, end);
}

// Writes `value` over the number after `field` (the same length: spaces
// after it, so that the file's offsets do not move); whether it changed.
bool overwrite_number(Bytes& bytes, std::string_view field, long value) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  auto number = number_after(text, field);
  if (!number) return false;
  auto [digits, end] = *number;
  std::string wanted = std::to_string(value);
  if (end == digits || wanted.size() > end - digits || text.substr(digits, end - digits) == wanted) return false;
  wanted.resize(end - digits, ' ');
  std::memcpy(bytes.data() + digits, wanted.data(), wanted.size());
  return true;
}

}  // namespace

void Recorder::show_status_as_without_ttdb(const SyscallArgs& call, Event& e) {
  // The bytes read, as the event keeps them (reads of /proc files are
  // always traced, so none is buffered): only a status file's are looked at.
  auto read = std::find_if(e.mem.begin(), e.mem.end(), [&](const MemWrite& m) { return m.addr == call.a[1]; });
  if (read == e.mem.end()) return;
  Bytes& bytes = read->data;
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (text.find("TracerPid:\t") == std::string_view::npos && text.find("NoNewPrivs:\t") == std::string_view::npos &&
      text.find("Seccomp:\t") == std::string_view::npos)
    return;
  // Only /proc/PID/status and /proc/PID/task/TID/status.
  std::string file = read_link(fmt::format("/proc/{}/fd/{}", tracee().tid(), static_cast<int>(call.a[0])));
  if (!file.starts_with("/proc/") || !file.ends_with("/status")) return;
  auto owner = tasks_.find(static_cast<pid_t>(std::atoi(file.c_str() + 6)));
  auto thread = file.find("/task/");
  if (thread != std::string::npos) owner = tasks_.find(static_cast<pid_t>(std::atoi(file.c_str() + thread + 6)));
  const Task* task = owner == tasks_.end() ? nullptr : owner->second.get();
  // TracerPid names the program's own tracer of the task (emulated), or none;
  // ttdb's own no_new_privs and seccomp filter are not there.
  bool changed = false;
  changed |= overwrite_number(bytes, "TracerPid:\t", task && task->traced ? task->traced->tracer : 0);
  if (task && task->space) {
    const ProcessView& view = task->space->view;
    // The kernel counts ttdb's filter (there with the syscall buffer) among them.
    auto count = number_after(text, "Seccomp_filters:\t");
    int filters = count ? std::atoi(std::string(text.substr(count->first, count->second - count->first)).c_str()) : 0;
    int native_filters = std::max(0, filters - (options_.syscall_buffer ? 1 : 0));
    changed |= overwrite_number(bytes, "NoNewPrivs:\t", recorder_no_new_privs() || view.own_no_new_privs);
    changed |= overwrite_number(bytes, "Seccomp_filters:\t", native_filters);
    changed |= overwrite_number(bytes, "Seccomp:\t", view.own_seccomp || native_filters > 0 ? SECCOMP_MODE_FILTER : SECCOMP_MODE_DISABLED);
  }
  if (changed) tracee().write_bytes(RemotePtr(call.a[1]), bytes);
}

Task* Recorder::affinity_target(std::uint64_t tid) {
  if (tid == 0) return &task();
  auto found = tasks_.find(static_cast<pid_t>(tid));
  return found == tasks_.end() ? nullptr : found->second.get();
}

std::int64_t Recorder::answer_as_without_ttdb(const SyscallArgs& call, std::int64_t ret) {
  Tracee& t = tracee();
  ProcessView& view = space().view;
  std::optional<std::int64_t> answer;
  auto filters_own_calls = [&] {
    view.own_seccomp = true;
    // Its filter may refuse ttdb's own calls before ttdb's traces them.
    for (auto& [tid, u] : tasks_)
      if (u->space == task().space) u->tracee.set_injections_stop_at_filter(false);
    // Its filter may kill or trap a call the shim makes: none is buffered now.
    if (space().shim) stop_buffering(t, space().shim);
  };
  switch (call.nr) {
    case __NR_seccomp:
      if (ret == 0 && call.a[0] == SECCOMP_SET_MODE_FILTER) filters_own_calls();
      break;
    case __NR_prctl:
      if (is_error_result(ret)) break;
      if (call.a[0] == PR_SET_SECCOMP) filters_own_calls();
      if (call.a[0] == PR_GET_SECCOMP) answer = view.own_seccomp ? SECCOMP_MODE_FILTER : SECCOMP_MODE_DISABLED;
      if (call.a[0] == PR_SET_NO_NEW_PRIVS) view.own_no_new_privs = true;
      if (call.a[0] == PR_GET_NO_NEW_PRIVS) answer = recorder_no_new_privs() || view.own_no_new_privs;
      if (call.a[0] == PR_SET_TSC) view.tsc_mode = static_cast<int>(call.a[1]);
      if (call.a[0] == PR_GET_TSC) t.write_value<int>(RemotePtr(call.a[1]), view.tsc_mode);
      break;
    case __NR_sched_setaffinity:
      if (Task* target = affinity_target(call.a[0]); ret == 0 && target) target->own_affinity = true;
      break;
    case __NR_sched_getaffinity:
      // The mask it would have without ttdb's pinning, unless it chose one.
      if (Task* target = affinity_target(call.a[0]); ret > 0 && target && !target->own_affinity) {
        auto size = std::min<std::size_t>(static_cast<std::size_t>(ret), sizeof affinity_);
        t.write_bytes(RemotePtr(call.a[2]), ByteView(reinterpret_cast<const std::uint8_t*>(&affinity_), size));
      }
      break;
    case __NR_personality:
      if (is_error_result(ret)) break;
      // The previous persona, as the program knows it.
      answer = view.own_no_randomize ? ret : ret & ~std::int64_t{ADDR_NO_RANDOMIZE};
      if (call.a[0] != 0xffffffff) view.own_no_randomize = (call.a[0] & ADDR_NO_RANDOMIZE) != 0;
      break;
    default: break;
  }
  if (!answer || *answer == ret) return ret;
  Registers regs = t.regs();
  regs.rax = static_cast<unsigned long long>(*answer);
  t.set_regs(regs);
  return *answer;
}

void Recorder::on_syscall_exit(const __ptrace_syscall_info& info) {
  Tracee& t = tracee();
  task().spawning = false;
  std::int64_t ret = info.exit.rval;
  // Natively a signal the program ignores is dropped when sent and never
  // wakes a call; under ptrace it is queued, and wakes one, which some
  // calls (semop, sigtimedwait) end with EINTR. The kernel restarts the
  // call instead when its result says it may, as for a signal with no handler.
  // (Not rt_sigreturn, whose EINTR is the result of the call a handler
  // interrupted, given back.)
  if (ret == -EINTR && task().pending && fails_when_woken(task().pending->call.nr) && interrupted_by_ignored_signals(t)) {
    ret = -514;  // ERESTARTNOHAND, the kernel's own (not in the headers programs see)
    Registers regs = t.regs();
    regs.rax = static_cast<unsigned long long>(ret);
    t.set_regs(regs);
  }
  std::string exec_file;  // a file the program just mapped as code
  bool sigreturn = task().pending && task().pending->call.nr == __NR_rt_sigreturn;
  if (task().pending && changes_signal_mask(task().pending->call.nr)) task().trap_blocked.reset();
  bool vfork_done = task().pending && task().traced && spawns_vfork(t, task().pending->call) && ret > 0;
  if (task().expect_exec_exit) {
    task().expect_exec_exit = false;
    absorb_tracer_interrupt();
    after_exec();
  } else if (task().pending) {
    auto [call, e, answered, trap_action] = std::move(*task().pending);
    task().pending.reset();
    const SyscallInfo* si = find_syscall(call.nr);
    if (answered) {
      // Skipped by the kernel: the answer is ttdb's, its outputs in the event already.
      ret = *answered;
      Registers regs = t.regs();
      regs.rax = static_cast<unsigned long long>(ret);
      t.set_regs(regs);
    } else {
      ret = answer_as_without_ttdb(call, ret);
    }
    e.ret = ret;
    if (trap_action && ret == 0) space().trap_action = *trap_action;
    if (auto why = answered ? std::nullopt : unrecordable(t, task().tgid, si, call, ret)) {
      stop_recording(fmt::format("event {} is a call to {}: replay could not reproduce it",
                                 writer_.last_event_id() + 1, *why));
      return;
    }
    // A tracer's SIGCHLD from ttdb, taken with sigwaitinfo, says what the kernel's would.
    if (call.nr == __NR_rt_sigtimedwait && ret == SIGCHLD && call.a[1]) {
      siginfo_t taken{};
      if (t.read_some(RemotePtr(call.a[1]), &taken, sizeof taken) == sizeof taken)
        if (auto told = tracer_sigchld(task().tgid, taken)) t.write_bytes(RemotePtr(call.a[1]), ByteView(reinterpret_cast<const std::uint8_t*>(&*told), sizeof *told));
    }
    if (!answered) e.mem = capture_outputs(t, si, call, ret);
    if ((call.nr == __NR_read || call.nr == __NR_pread64) && ret > 0) show_status_as_without_ttdb(call, e);
    // Bytes moved to ttdb's stdout or stderr without passing through memory.
    auto moved = output_moved(t, call, ret);
    if (auto* unseeable = std::get_if<Unseeable>(&moved)) {
      stop_recording(fmt::format("event {} is a call to {} that moved bytes to ttdb's output {}: replay could not re-emit them",
                                 writer_.last_event_id() + 1, syscall_name(call.nr), unseeable->from));
      return;
    }
    if (auto* bytes = std::get_if<Bytes>(&moved)) e.info = std::move(*bytes);
    if (!capture_write_effects(call, ret, e)) {
      stop_recording(fmt::format("event {} is a call to {} that writes another process's memory through /proc: "
                                 "replay could not reproduce it",
                                 writer_.last_event_id() + 1, syscall_name(call.nr)));
      return;
    }
    if (!is_error_result(ret)) {
      switch (call.nr) {
        case __NR_mmap:
          // What a mapping at a fixed place replaced is gone, as after an munmap.
          if (call.a[3] & MAP_FIXED) space().forget_code(call.a[0], call.a[0] + call.a[1]);
          after_mmap(call, ret, e, exec_file);
          break;
        case __NR_mprotect:
        case __NR_pkey_mprotect:
          if (call.a[2] & PROT_EXEC)
            if (auto code = t.try_read_bytes(RemotePtr(call.a[0]), call.a[1]))
              space().rand.scan_and_patch(t, call.a[0], *code);
          break;
        case __NR_munmap: space().forget_code(call.a[0], call.a[0] + call.a[1]); break;
        case __NR_madvise: capture_reread_pages(call, e); break;
        case __NR_mremap:
          space().rand.remapped(call.a[0], call.a[1], call.a[2], static_cast<std::uint64_t>(ret));
          capture_grown_file_view(call, ret, e);
          break;
        case __NR_shmat:
          // The segment is a file of the kernel's: its identity lets replay
          // give every process that attaches it the same pages.
          note_shared_memory(!(call.a[2] & SHM_RDONLY));
          if (auto m = mapping_containing(read_maps(t.tid()), static_cast<std::uint64_t>(ret)); m && m->inode) {
            e.info = trace::FileIdentity{m->dev, m->inode}.to_info();
            share_turns_with_mappers({m->dev, m->inode}, !(call.a[2] & SHM_RDONLY));
          }
          break;
        case __NR_ftruncate:
        case __NR_fallocate:
          e.info = identity_of(fmt::format("/proc/{}/fd/{}", t.tid(), static_cast<int>(call.a[0])));
          break;
        case __NR_truncate:
          if (e.path) e.info = identity_of(e.path->starts_with('/') ? *e.path : fmt::format("/proc/{}/cwd/{}", t.tid(), *e.path));
          break;
        case __NR_open:
        case __NR_openat:
        case __NR_openat2:
        case __NR_creat:
          // A file opened with O_TRUNC (creat's) is cut to nothing, mapped or not.
          if (truncates_at_open(t, call)) e.info = identity_of(fmt::format("/proc/{}/fd/{}", t.tid(), static_cast<int>(ret)));
          break;
        default: break;
      }
      // A file cut or punched under other processes' shared mappings.
      bool resizes = call.nr != __NR_mmap && call.nr != __NR_shmat;
      if (auto file = trace::FileIdentity::from_info(e.info); resizes && file && mapped_shared_.count(*file)) settle_mappers(*file);
    }
    // Code being searched for syscall sites may have changed.
    if (finder_)
      for (auto [start, end] : remapped_ranges(call)) finder_->forget(t.tid(), start, end);
    // Descriptors the shim knows may now be other files; a vfork child,
    // done now, shared the shim's memory but had descriptors of its own.
    bool vforked = si && si->policy == ReplayPolicy::spawn && ret > 0 && (spawn_args(t, call).value_or(SpawnArgs{}).flags & CLONE_VM);
    switch (call.nr) {
      case __NR_close: case __NR_close_range: case __NR_dup2: case __NR_dup3:
        if (space().shim) forget_shim_fds(t, space().shim);
        break;
      default:
        if (vforked && space().shim) forget_shim_fds(t, space().shim);
        break;
    }
    std::uint64_t mapped_at = static_cast<std::uint64_t>(ret);
    if (tasks_.size() > 1 && (is_restart_result(ret) || ret == -EINTR)) {
      // Its result waits for its signal's stop, and other threads' events
      // may come first: its entry, which came before them, goes in now.
      if (turns().active && !task().entry_placed) {
        place_entries_before(task(), task().entered_at);
        place_entry(task(), e);
      }
      task().interrupted = std::move(e);
    } else {
      emit(std::move(e));
    }
    if (!exec_file.empty() && space().shim) find_sites(mapped_at, call.a[1], call.a[5], exec_file);
  }
  // A syscall through a trampoline's slow tail goes on from where the
  // original code would: the same place and state in replay. Not one the
  // kernel may restart: that goes back to the tail's syscall instruction.
  // (A site whose instructions the slow tail runs moved, which ttdb does
  // not emulate, has the thread run them there, as replay does: leave_slow_tail.)
  bool in_slow_tail = space().sites.where(info.instruction_pointer) == SyscallPatcher::Where::slow_tail;
  if (space().shim && !is_restart_result(ret) && in_slow_tail && !space().sites.finish_tail(t))
    space().sites.stay_past_syscall(t);
  if (space().shim && !task().interrupted) patch_found_sites();  // not ahead of its event
  // rt_sigreturn goes back to wherever a signal interrupted the program,
  // and a loop there can come back to the same registers with other memory
  // (volatile counters at -O0): the next signal stop is at this boundary
  // only if one is pending now, to be delivered before any instruction.
  if (sigreturn && !(t.pending_signals() & ~t.signal_mask()))
    task().boundary = Boundary{};
  else
    task().boundary = Boundary::after_exit_with(t.regs());
  if (vfork_done && vfork_done_for_tracer(static_cast<pid_t>(ret))) return;
  syscall_stop_for_tracer(EmulatedTracee::Stop::syscall_exit);
}

// The range of memory a call would replace or change, if it names one.
std::vector<std::pair<std::uint64_t, std::uint64_t>> Recorder::remapped_ranges(const SyscallArgs& call) {
  const auto* a = call.a;
  switch (call.nr) {
    case __NR_mmap:
      if (a[3] & MAP_FIXED) return {{a[0], a[0] + a[1]}};
      return {};
    case __NR_munmap: case __NR_mprotect: case __NR_pkey_mprotect: case __NR_madvise:
      return {{a[0], a[0] + a[1]}};
    case __NR_mremap:
      // The old range is left behind (or emptied, with MREMAP_DONTUNMAP)
      // wherever the pages go; a range it grows into was free.
      if (a[3] & MREMAP_FIXED) return {{a[0], a[0] + a[1]}, {a[4], a[4] + a[2]}};
      return {{a[0], a[0] + a[1]}};
    default: return {};
  }
}

bool Recorder::touches_ttdb_code(std::uint64_t start, std::uint64_t end) const {
  return space().shim.overlaps(start, end) || space().sites.overlaps_trampolines(start, end);
}

Bytes Recorder::identity_of(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
  return trace::FileIdentity{st.st_dev, st.st_ino}.to_info();
}

bool Recorder::truncates_at_open(Tracee& t, const SyscallArgs& call) {
  std::uint64_t flags = 0;
  switch (call.nr) {
    case __NR_creat: return true;
    case __NR_open: flags = call.a[1]; break;
    case __NR_openat: flags = call.a[2]; break;
    case __NR_openat2: t.read_some(RemotePtr(call.a[2]), &flags, sizeof flags); break;  // struct open_how's first field
    default: return false;
  }
  return (flags & O_TRUNC) != 0;
}

void Recorder::capture_grown_file_view(const SyscallArgs& call, std::int64_t ret, Event& e) {
  // A private file mapping that grew shows more of the file, where replay's
  // memory is anonymous: the new part goes into the event. (A shared one
  // maps replay's copy of the whole file.)
  std::uint64_t old_size = call.a[1], new_size = call.a[2];
  if (new_size <= old_size) return;
  auto at = static_cast<std::uint64_t>(ret);
  auto m = mapping_containing(read_maps(tracee().tid()), at);
  if (!m || m->shared || m->inode == 0) return;
  std::uint64_t end = std::min(at + new_size, m->end);
  if (end > at + old_size) capture_memory(tracee(), at + old_size, end - (at + old_size), e.mem);
}

void Recorder::capture_reread_pages(const SyscallArgs& call, Event& e) {
  constexpr std::uint64_t kDontneedLocked = 24;  // MADV_DONTNEED_LOCKED, newer than these headers
  if (call.a[2] != MADV_DONTNEED && call.a[2] != kDontneedLocked) return;
  Tracee& t = tracee();
  std::uint64_t from = call.a[0], to = call.a[0] + call.a[1];
  for (const auto& m : read_maps(t.tid())) {
    if (m.shared || m.inode == 0 || m.end <= from || m.start >= to) continue;
    std::uint64_t start = std::max(from, m.start), end = std::min(to, m.end);
    capture_memory(t, start, end - start, e.mem);
  }
}

void Recorder::after_mmap(const SyscallArgs& call, std::int64_t ret, Event& e, std::string& exec_file) {
  bool shared = (call.a[3] & MAP_TYPE) != MAP_PRIVATE;
  if (call.a[3] & MAP_ANONYMOUS) {
    if (shared) note_shared_memory(true);
    return;
  }
  Tracee& t = tracee();
  std::string fd_path = fmt::format("/proc/{}/fd/{}", t.tid(), static_cast<int>(call.a[4]));
  // A write() to the file shows in a shared mapping of it, and in the pages
  // of a private one the program has not written. Libraries and locale
  // archives are mapped private from read-only descriptors: the writes a
  // program makes to a data file it maps from a writable one are looked at
  // (its file writes stop the recorder from then on).
  struct stat link;
  bool writable_fd = ::lstat(fd_path.c_str(), &link) == 0 && (link.st_mode & S_IWUSR);
  struct stat st;
  bool regular = ::stat(fd_path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  // (A mapping from a read-only descriptor can never be made writable.)
  if (shared) note_shared_memory(writable_fd || (call.a[2] & PROT_WRITE));
  // (Not a system file mapped shared from a read-only descriptor, as
  // glibc's gconv cache is by every program that converts text: only a
  // package upgrade writes it. Tracing every file write of ls and the
  // like for it cost them more than their syscalls.)
  bool system_view = shared && regular && !writable_fd && is_system_file(read_link(fd_path), st);
  if (!space().file_writes_show && ((shared && !system_view) || (!shared && writable_fd))) {
    space().file_writes_show = true;
    if (space().shim) trace_file_writes_in_shim(t, space().shim);
  }
  if (regular && static_cast<std::uint64_t>(st.st_size) > kLargestCatalogued) {
    // Too large to keep whole (often a sparse file): what the mapping shows
    // of it goes into the event, holes left out (replay's memory is zero there).
    capture_file_extents(fd_path, static_cast<std::uint64_t>(ret), call.a[5],
                         std::min<std::uint64_t>(call.a[1], static_cast<std::uint64_t>(st.st_size) - std::min<std::uint64_t>(call.a[5], st.st_size)),
                         e.mem);
    return;
  }
  auto file = regular ? files_.find(st) : std::nullopt;
  if (!file) file = files_.add(fd_path, read_link(fd_path), "mmap");
  if (!file) return;  // a device such as /dev/zero: replay maps anonymous memory
  std::uint64_t offset = call.a[5];
  e.mem.push_back(file_view(*file, static_cast<std::uint64_t>(ret), call.a[1], offset));
  std::uint64_t size = e.mem.back().size;
  // Which file, so that replay maps every shared mapping of it from one
  // copy (and a private one too, once there is one).
  if (regular) e.info = trace::FileIdentity{st.st_dev, st.st_ino}.to_info();
  if (regular && !shared) offer_mappable(st, *file);
  // A shared view that can never be made writable (mprotect fails with
  // EACCES) is mapped so in replay too: one from a descriptor open for
  // reading only never can (the kernel leaves VM_MAYWRITE off), and what
  // else cannot (a sealed memfd) its flags in smaps say, which cost a walk
  // of the process's memory (glibc's gconv cache, in every program that
  // converts text, is the first kind).
  if (regular && shared && !(call.a[2] & PROT_WRITE)) {
    bool never_writable = !writable_fd;
    if (!never_writable)
      if (auto flags = mapping_flags(t.tid(), static_cast<std::uint64_t>(ret)))
        never_writable = std::find(flags->begin(), flags->end(), "mw") == flags->end();
    if (never_writable) e.info.push_back(1);
  }
  bool writes_shared = shared && (call.a[2] & PROT_WRITE);
  if (regular && shared) {
    share_turns_with_mappers({st.st_dev, st.st_ino}, writes_shared);
    // (Not for a system file, which only a package upgrade writes: glibc's
    // gconv cache, mapped shared by every program that converts text.)
    if (!is_system_file(read_link(fd_path), st)) show_file_writes_everywhere({st.st_dev, st.st_ino});
  }
  for (std::size_t i = 0; regular && writes_shared && i < outputs_.size(); ++i)
    if (outputs_[i] == std::pair<std::uint64_t, std::uint64_t>{st.st_dev, st.st_ino})
      warn(fmt::format("the program maps ttdb's {} (a file) shared and writable at event {}: replay does not re-emit "
                       "what it writes there through memory",
                       i == 0 ? "stdout" : "stderr", writer_.last_event_id() + 1));
  if ((call.a[2] & PROT_EXEC) && size > 0) {
    space().rand.scan_and_patch_file(t, static_cast<std::uint64_t>(ret), size, file->hash, offset);
    exec_file = fd_path;
  }
}

void Recorder::offer_mappable(const struct stat& st, const FileCatalog::Entry& file) {
  MappableVersion version = mappable_version(st);
  if (mappable_.size() >= kMostMappableFiles || std::find(mappable_.begin(), mappable_.end(), version) != mappable_.end())
    return;
  mappable_.push_back(version);
  mappable_entries_.push_back(file);
  // This process's shim learns it now; the others at their next exec (a
  // fork's copy knows what its parent's did).
  if (space().shim) name_mappable_files(tracee(), space().shim, mappable_, mappable_.size() - 1);
}

}  // namespace ttdb::recording
