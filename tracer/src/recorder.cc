// The recorder's event loop: one program thread, stopped at the syscalls the
// syscall buffer does not make itself (a seccomp filter stops the recorder
// at their entry; without the buffer, at every syscall) and at every signal,
// each stop turned into trace events, after the records the buffer appended
// since the last stop.
//
// Signals are what make this loop subtle. A signal delivered right at a
// syscall boundary (the program had not run a single instruction since the
// syscall's exit) can be reproduced exactly: replay sends it at the same
// boundary. A signal that arrives while the program runs its own code cannot
// be placed without a branch counter, so it is held back and sent again at
// the next syscall exit, where it becomes a boundary signal. Faults (SIGSEGV
// from a bad pointer, SIGFPE...) recur by themselves in replay and are only
// checked.
#include <sys/wait.h>

#include <fmt/format.h>

#include "recorder_state.h"

namespace ttdb {
namespace recording {

std::int64_t now_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string read_link(const std::string& path) {
  char buffer[4096];
  ssize_t n = ::readlink(path.c_str(), buffer, sizeof buffer);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}


// The "#!" line of `path` (as process `pid` names it), without its newline;
// empty when it is not a script.
Bytes shebang_line(pid_t pid, const std::string& path) {
  std::string where = path.starts_with('/') ? path : fmt::format("/proc/{}/cwd/{}", pid, path);
  UniqueFd fd(::open(where.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  Bytes line(256);  // the kernel reads no more of it
  ssize_t n = ::pread(fd.get(), line.data(), line.size(), 0);
  if (n < 2 || line[0] != '#' || line[1] != '!') return {};
  line.resize(static_cast<std::size_t>(n));
  if (auto end = std::find(line.begin(), line.end(), '\n'); end != line.end()) line.erase(end, line.end());
  return line;
}

// Whether a process maps memory that other processes may write (MAP_SHARED).
bool has_shared_writable_memory(pid_t pid) {
  auto maps = read_maps(pid);
  return std::any_of(maps.begin(), maps.end(), [](const Mapping& m) { return m.shared && m.writable; });
}

MemWrite file_view(const FileCatalog::Entry& file, std::uint64_t addr, std::uint64_t length, std::uint64_t offset) {
  MemWrite content;
  content.addr = addr;
  content.size = file.size > offset ? std::min(length, file.size - offset) : 0;
  content.file = file.id;
  content.file_offset = offset;
  return content;
}

// The data of `size` bytes of a file from `offset`, as memory writes at
// `addr` onwards; the file's holes are skipped.
void capture_file_extents(const std::string& path, std::uint64_t addr, std::uint64_t offset, std::uint64_t size,
                          std::vector<MemWrite>& out) {
  constexpr std::uint64_t kPiece = 1 << 20;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) fail("cannot read {}, which the program maps: {}", read_link(path), errno_text(errno));
  std::uint64_t end = offset + size;
  for (std::uint64_t at = offset; at < end;) {
    off_t data = ::lseek(fd.get(), static_cast<off_t>(at), SEEK_DATA);
    if (data < 0 || static_cast<std::uint64_t>(data) >= end) break;
    off_t hole = ::lseek(fd.get(), data, SEEK_HOLE);
    std::uint64_t stop = std::min<std::uint64_t>(hole < 0 ? end : static_cast<std::uint64_t>(hole), end);
    for (at = static_cast<std::uint64_t>(data); at < stop;) {
      Bytes piece(std::min(kPiece, stop - at));
      ssize_t n = ::pread(fd.get(), piece.data(), piece.size(), static_cast<off_t>(at));
      if (n <= 0) return;
      piece.resize(static_cast<std::size_t>(n));
      MemWrite write;
      write.addr = addr + (at - offset);
      write.size = piece.size();
      write.data = std::move(piece);
      out.push_back(std::move(write));
      at += static_cast<std::uint64_t>(n);
    }
  }
}

void Recorder::warn(const std::string& message) {
  if (options_.warn) options_.warn(message);
}

pid_t Recorder::recorded_tid(pid_t tid) const {
  auto found = recorded_tids_.find(tid);
  return found == recorded_tids_.end() ? tid : found->second;
}

RecordOutcome Recorder::loop() {
  while (!outcome_) {
    schedule();
    auto stop = wait_next();
    if (!stop) continue;  // a held signal's wait ran out: its task was interrupted
    auto found = tasks_.find(stop->tid);
    if (found == tasks_.end()) {
      early_stops_[stop->tid] = stop->raw;  // a child, before its parent's fork event
      continue;
    }
    if (found->second->vfork_child) {
      found->second->deferred_stop = stop->raw;
      continue;
    }
    task_ = found->second.get();
    take_stop(stop->raw);
  }
  return *outcome_;
}

void Recorder::take_stop(int raw) {
  WaitStatus status;
  if (!tracee().take_status(raw, status)) return;
  task().stopped = true;
  if (task().space) {
    tracee().set_injections_stop_at_filter(options_.syscall_buffer && !space().view.own_seccomp);
    tracee().set_shim_door(shim_door());
  }
  handle(status);
  // Where ttdb may make it run a syscall of its own (pay_tsc_owed).
  if (task_)
    task().may_inject = (status.is_syscall_stop() && !task().entering && !task().expect_exit_stop) ||
                        status.is_signal_stop();
  if (task_ && !task().entering) task().ready_since = ++ticks_;
  if (task_ && task().tracee.alive()) take_back_deferred_signals();
}

ShimDoor Recorder::shim_door() {
  // Not for a thread a tracer of the program's watches: the door's way
  // back leaves orig_rax -1, which the tracer would see.
  if (task().traced) return {};
  return ttdb::shim_door(space().shim, shim_setup_.secret, space().vdso_syscall);
}

void Recorder::release_vfork_parent() {
  auto parent = tasks_.find(std::exchange(task().vfork_parent, 0));
  if (parent == tasks_.end()) return;
  Task* child = task_;
  task_ = parent->second.get();
  task().vfork_child = 0;
  if (auto raw = std::exchange(task().deferred_stop, std::nullopt)) take_stop(*raw);
  task_ = tasks_.count(child->tracee.tid()) ? child : nullptr;
}

void Recorder::emit(Event e) {
  auto self = tasks_.find(e.tid);
  if (self != tasks_.end() && self->second->space && self->second->space->turns->active) {
    // A syscall event whose entry no event named yet stands for that entry:
    // only the threads that entered before it go first.
    Task& me = *self->second;
    bool own_entry = e.kind == EventKind::syscall && me.entered_at && !me.entry_placed;
    std::uint64_t before = own_entry ? me.entered_at : ~std::uint64_t{0};
    if (e.kind == EventKind::syscall) me.entered_at = 0;
    place_entries_before(me, before);
  }
  if (self != tasks_.end() && e.kind == EventKind::syscall) self->second->entry_in_trace = false;
  e.tid = recorded_tid(e.tid);
  writer_.add_event(std::move(e));
}

void Recorder::resume(Task& t) {
  pay_tsc_owed(t);
  // With the buffer's seccomp filter, syscalls stop the recorder by themselves;
  // not those the program's own filter refuses (its verdict wins over
  // ttdb's), which only a stop at every syscall's entry sees.
  // A task the program traces stops at every syscall too (its tracer may ask for syscall stops).
  Resume how = !options_.syscall_buffer || t.expect_exit_stop || t.space->view.own_seccomp || t.traced ? Resume::syscall
                                                                                                      : Resume::cont;
  if (t.traced && t.traced->resumed == Resume::singlestep && !t.expect_exit_stop) how = Resume::singlestep;
  if (t.resume_signal) t.last_delivered = t.resume_signal;
  watch_trap_mask(t);
  note_delivery(t.space->trap_action, t.resume_signal);
  t.tracee.resume(how, std::exchange(t.resume_signal, 0));
  send_tracer_interrupt(t);
  t.stopped = false;
  t.entering = false;
}

std::optional<AnyStop> Recorder::wait_next() {
  // A task holding a signal waits for a syscall boundary at most this long.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  auto sooner = [&](std::chrono::steady_clock::time_point when) {
    if (!deadline || when < *deadline) deadline = when;
  };
  for (const auto& [tid, t] : tasks_) {
    if (!t->held.empty() && !t->stopped) sooner(t->held_since + kLongestHold);
    // A thread that keeps its turn (it spins without syscalls) while others
    // wait gives it up after a time slice.
    if (keeps_others_waiting(tid, *t)) sooner(t->space->turns->turn_since + kTimeSlice);
  }
  if (!deadline) return wait_any();
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
  if (auto stop = wait_any(std::max(left, std::chrono::milliseconds(0)))) return stop;
  // It runs on without a syscall (it may be waiting for this very signal):
  // stop it where it is.
  auto now = std::chrono::steady_clock::now();
  for (auto& [tid, t] : tasks_) {
    if (!t->held.empty() && !t->stopped && t->held_since + kLongestHold <= now) {
      t->tracee.interrupt();
      t->held_since = now + std::chrono::hours(1);  // once: its stop starts the wait anew
    }
    if (keeps_others_waiting(tid, *t) && t->space->turns->turn_since + kTimeSlice <= now) {
      t->tracee.interrupt();
      t->preempt = true;
    }
  }
  return std::nullopt;
}

void Recorder::handle(const WaitStatus& status) {
  if (task().fresh) {
    // Killed before its first stop (a SIGKILL right after its fork): this
    // is its end, which must not pass for its start.
    if (!status.is_exit()) {
      on_first_stop();
      return;
    }
    task().fresh = false;
  }
  if (task().interrupted) emit(*std::exchange(task().interrupted, std::nullopt));
  Boundary previous = std::exchange(task().boundary, Boundary{});
  switch (status.kind()) {
    case WaitStatus::Kind::exited:
    case WaitStatus::Kind::killed: on_exit(status); break;
    case WaitStatus::Kind::syscall_stop: on_syscall_stop(); break;
    case WaitStatus::Kind::signal_stop: on_signal(status.code(), previous); break;
    case WaitStatus::Kind::group_stop: on_group_stop(status.code(), previous); break;
    case WaitStatus::Kind::not_resumed: break;
    case WaitStatus::Kind::event_stop:
      switch (status.event()) {
        case PTRACE_EVENT_EXEC: on_exec(); break;
        case PTRACE_EVENT_STOP:
          if (std::exchange(task().job_stopped, false)) {
            keep_boundary(previous);
            if (task().traced && !task().traced->listening) {
              // Taken by a tracer in its job-control stop, then interrupted
              // (or sent a signal): the tracer sees the stop, as the kernel
              // traps a stopped task it attaches, and it runs only when the
              // tracer says so (a SIGCONT since is delivered then).
              group_stop_for_tracer(task().job_signal);
              task().traced->continued = status.code() == SIGTRAP;  // a SIGCONT made this stop
            } else {
              listen_ended_for_tracer();  // a SIGCONT (or a signal to take) ended the stop
            }
            break;
          }
          if (!interrupt_for_tracer(previous)) on_interrupt();
          break;
        case PTRACE_EVENT_SECCOMP: on_syscall_stop(); break;
        case PTRACE_EVENT_FORK: case PTRACE_EVENT_VFORK: case PTRACE_EVENT_CLONE: on_spawn(status.event()); break;
        // About to exit: its memory is still there to take the last records from.
        case PTRACE_EVENT_EXIT:
          drain(true);
          forget_buffered_program_if_short(task());
          task().exiting = true;
          hold_turn_to_the_end();
          exit_for_tracer();
          break;
        default: break;
      }
      break;
  }
}

void Recorder::on_spawn(int event) {
  Task& parent = task();
  auto child_tid = static_cast<pid_t>(parent.tracee.event_message());
  if (!parent.pending) throw InternalError(fmt::format("task {} made a child {} outside a syscall", parent.tracee.tid(), child_tid));
  auto spawn = spawn_args(parent.tracee, parent.pending->call);
  std::uint64_t flags = spawn ? spawn->flags : 0;
  // go-live --record: replay knows the adopted threads by their recorded tids.
  for (const auto& [live, recorded] : recorded_tids_)
    if (recorded == child_tid && live != child_tid) {
      stop_recording(fmt::format("the live run made task {}, the tid the recording had given to its thread now {}, and "
                                 "replay could not tell the two apart",
                                 child_tid, live));
      return;
    }
  trace_outputs();
  Event e;
  e.kind = EventKind::spawn;
  e.tid = parent.tracee.tid();
  e.nr = child_tid;
  e.args[0] = flags;
  emit(std::move(e));
  parent.entry_placed = true;  // replay runs the parent's call at this event
  parent.entering = true;      // it goes on inside its call, which needs no turn
  writer_.set_meta(trace::meta::processes, ++processes_);

  // A thread runs in its parent's address space, and so does a process made
  // with CLONE_VM that does not wait for its parent (a vfork child does); a
  // forked process shares the writable MAP_SHARED memory its parent has.
  // Either way they take turns, and so do threads their shared shim.
  bool same_space = (flags & CLONE_THREAD) || ((flags & CLONE_VM) && !(flags & CLONE_VFORK));
  bool shared_memory =
      !(flags & CLONE_VM) && parent.space->shares_writable && has_shared_writable_memory(parent.tracee.tid());
  if ((same_space || shared_memory) && !parent.space->turns->active) {
    drain();
    parent.space->turns->active = true;
    parent.space->turns->turn = 0;  // the parent is in the kernel now
  }
  if (same_space) parent.space->threaded = true;
  // (Not a vfork's parent, which returns only once its child has exec'd or
  // ended, nor one the program traces, whose tracer may hold it at the
  // clone's event, and may itself wait for a turn.)
  parent.spawning = (same_space || shared_memory) && !(flags & CLONE_VFORK) && !parent.traced;
  auto child = std::make_unique<Task>(Tracee(child_tid));
  child->own_affinity = parent.own_affinity;
  child->tsc_trapped = parent.tsc_trapped;
  child->tsc_owed = parent.tsc_owed;
  // A child that shares its parent's memory (a thread, or a vfork child) shares its space too.
  child->space = flags & CLONE_VM ? parent.space : std::make_shared<Space>(*parent.space);
  if (!(flags & CLONE_VM)) {
    // A process of its own, with one thread: its parent's turns are its own
    // only while they share memory.
    child->space->threaded = false;
    if (!shared_memory) child->space->turns = std::make_shared<TurnGroup>();
    // Its calls are its parent's run's, not a run of the program's: not judged.
    child->space->libraries_at_exec = false;
    child->shim_copied = true;
  }
  child->tgid = flags & CLONE_THREAD ? parent.tgid : child_tid;
  Task& created = *(tasks_[child_tid] = std::move(child));
  if (flags & CLONE_VFORK) {
    parent.vfork_child = child_tid;
    created.vfork_parent = parent.tracee.tid();
  }
  // Its first stop may have come already; a child the program traces needs
  // it now, before its tracer asks for its registers.
  bool traced = parent.traced && (parent.traced->options & (1u << event));
  auto early = early_stops_.find(child_tid);
  if (early != early_stops_.end() || traced) {
    int raw = 0;
    if (early != early_stops_.end()) {
      raw = early->second;
      early_stops_.erase(early);
    } else {
      while (::waitpid(child_tid, &raw, __WALL) < 0 && errno == EINTR) {}
    }
    Task* parent_task = std::exchange(task_, &created);
    WaitStatus status;
    if (created.tracee.take_status(raw, status)) handle(status);
    task_ = parent_task;
  }
  if (traced && tasks_.count(child_tid)) spawn_for_tracer(parent, created, event, flags);
}

// Where a new child starts: returning from its parent's fork, through the
// same trampoline tail (replay moves it on the same way).
void Recorder::on_first_stop() {
  task().fresh = false;
  // Another thread of the parent may have made buffered calls while the
  // kernel copied the memory: they are the parent's, which keeps them.
  if (std::exchange(task().shim_copied, false) && space().shim) {
    space().shim_taken = 0;  // its parent's count, which may have moved on since the fork
    take_records(tracee(), space().shim, space().shim_taken, Emptying::always);
  }
  space().outputs_traced = false;  // its copy of the shim was made before its parent's was told
  trace_outputs();
  if (space().shim && space().sites.where(tracee().regs().rip) == SyscallPatcher::Where::slow_tail)
    space().sites.finish_tail(tracee());
}

void Recorder::trace_outputs() {
  if (!space().shim || space().outputs_traced) return;
  trace_files_in_shim(tracee(), space().shim, outputs_);
  space().outputs_traced = true;
}

bool Recorder::writes_output(const SyscallArgs& call) {
  switch (call.nr) {
    case __NR_write: case __NR_writev: case __NR_pwrite64: case __NR_pwritev: case __NR_pwritev2: break;
    default: return false;
  }
  struct stat st {};
  if (::stat(fmt::format("/proc/{}/fd/{}", tracee().tid(), static_cast<int>(call.a[0])).c_str(), &st) != 0) return false;
  if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1) return false;  // /dev/null and the like: no order to keep
  for (const auto& [dev, ino] : outputs_)
    if (ino && st.st_dev == dev && st.st_ino == ino) return true;
  return false;
}

void Recorder::take_output_turn() {
  pid_t tid = tracee().tid();
  if (!output_writer_ || output_writer_ == tid) {
    output_writer_ = tid;
    return;
  }
  task().waiting_output = true;
  output_waiters_.push_back(tid);
}

void Recorder::end_output_turn(pid_t tid) {
  if (output_writer_ != tid) return;
  output_writer_ = 0;
  if (output_waiters_.empty()) return;
  output_writer_ = output_waiters_.front();
  output_waiters_.pop_front();
  if (auto next = tasks_.find(output_writer_); next != tasks_.end()) next->second->waiting_output = false;
}

Task* Recorder::execing_thread_of(const Task& t) {
  for (auto& [tid, other] : tasks_)
    if (other.get() != &t && other->tgid == t.tgid && other->pending &&
        (other->pending->call.nr == __NR_execve || other->pending->call.nr == __NR_execveat))
      return other.get();
  return nullptr;
}

void Recorder::take_over_process(pid_t former) {
  // The first thread's task goes without an end of its own: its tid lives on.
  pid_t tid = tracee().tid();
  end_output_turn(tid);
  std::erase(output_waiters_, tid);
  tracee().forget();
  std::unique_ptr<Task> execing = std::move(tasks_.at(former));
  tasks_.erase(former);
  if (output_writer_ == former) output_writer_ = tid;
  std::replace(output_waiters_.begin(), output_waiters_.end(), former, tid);
  execing->tracee.take_over_tid(tid);
  execing->stopped = true;  // the stop being handled is its own
  task_ = (tasks_[tid] = std::move(execing)).get();
}

void Recorder::on_exec() {
  // An exec from a thread that is not its process's first: the kernel
  // reports it as that thread's, under its tid (ptrace(2), "execve under ptrace").
  pid_t former = tasks_.size() > 1 ? static_cast<pid_t>(tracee().event_message()) : tracee().tid();
  if (former != tracee().tid() && tasks_.count(former)) take_over_process(former);
  // The other threads of the old program end, inside whatever they were
  // doing: their calls never return, and replay's exec ends them too.
  for (auto& [tid, other] : tasks_)
    if (other.get() != task_ && task().tgid && other->tgid == task().tgid) {
      other->ended_by_exec = true;
      other->pending.reset();
    }
  Tracee& t = tracee();
  t.reopen_memory();
  auto maps = read_maps(t.tid());
  InitialStack stack = prepare_initial_stack(t, VdsoTreatment::syscalls, maps);
  std::string exe = read_link(fmt::format("/proc/{}/exe", t.tid()));
  struct stat exe_stat {};
  if (::stat(fmt::format("/proc/{}/exe", t.tid()).c_str(), &exe_stat) == 0 && (exe_stat.st_mode & (S_ISUID | S_ISGID)))
    warn(fmt::format("{} is set-{}-ID: it runs without its privileges while recorded, and replays the same way", exe,
                     exe_stat.st_mode & S_ISUID ? "user" : "group"));

  Event e;
  e.kind = EventKind::exec;
  e.tid = t.tid();
  e.path = exe;
  e.args[0] = stack.sp.addr();
  e.args[1] = stack.top.addr();
  if (former != t.tid()) e.args[4] = static_cast<std::uint64_t>(former);
  e.args[5] = static_cast<std::uint64_t>(VdsoTreatment::syscalls);
  // The files' hashes name their code for the scan for rdtsc and rdrand.
  std::map<std::string, ContentHash> hashes;
  std::optional<ContentHash> program_hash;
  if (auto file = files_.add(fmt::format("/proc/{}/exe", t.tid()), exe, "exe")) {
    e.args[2] = static_cast<std::uint64_t>(file->id);
    hashes[exe] = file->hash;
    program_hash = file->hash;
  }
  // The only other file the kernel maps at exec is the ELF interpreter.
  std::string loader;
  for (const auto& m : maps) {
    if (m.path.empty() || m.path[0] != '/' || m.path == exe || m.offset != 0) continue;
    loader = m.path;
    if (auto file = files_.add(m.path, m.path, "interp")) {
      e.args[3] = static_cast<std::uint64_t>(file->id);
      hashes[m.path] = file->hash;
    }
    break;
  }
  // A script ran: its first line, so that replay can start its interpreter
  // the way the kernel did, whether or not the script is still there.
  if (task().pending && task().pending->call.nr == __NR_execve && task().pending->event.path)
    e.info = shebang_line(t.tid(), *task().pending->event.path);
  MemWrite block;
  block.addr = stack.sp.addr();
  block.data = std::move(stack.bytes);
  block.size = block.data.size();
  e.mem.push_back(std::move(block));
  emit(std::move(e));
  for (Event& ended : std::exchange(task().ended_before_exec, {})) emit(std::move(ended));

  ProcessView view = task().space ? space().view : ProcessView{};  // none yet at the first exec
  bool trap_ignored = task().space ? space().trap_action[0] == kIgnoreAction : first_trap_ignored_;
  // A new program shares no memory: it leaves its turns.
  if (task().space && (turns().turn == t.tid() || turns().turn == former)) turns().turn = 0;
  forget_buffered_program_if_short(task());
  task().space = std::make_shared<Space>();
  space().view = view;
  space().trap_action = trap_action_after_exec(trap_ignored);
  space().vdso_syscall = stack.vdso_syscall;
  space().inject_at = stack.vdso_syscall;  // (the shim's own, once it has one)
  space().vdso_sites = std::move(stack.vdso_sites);
  space().vdso_clocks = std::move(stack.vdso_clocks);
  space().vdso_start = stack.vdso_start;
  space().vdso_end = stack.vdso_end;
  space().loader_path = loader;
  space().program = exe;
  space().program_hash = program_hash;
  space().rand.patch_tsc(reads_tsc_untrapped());
  space().rand.scan_process(t, maps, hashes);
  if (options_.syscall_buffer) task().exec_maps = std::move(maps);
  if (finder_) finder_->clear(t.tid());
  task().shim_flags = false;
  task().pending.reset();
  task().expect_exec_exit = true;
  task().expect_exit_stop = true;
  exec_for_tracer(former);
  release_vfork_parent();
}

void Recorder::drain(bool ending) {
  if (!space().shim) return;
  // Only the thread whose turn it is runs the program's code, so the records
  // are its own; another thread's stop must not read them while it appends.
  if (turns().active && turns().turn != tracee().tid()) return;
  ShimRecords records = take_records(tracee(), space().shim, space().shim_taken, ending ? Emptying::always : Emptying::outside_calls);
  if (records.count == 0) return;
  // The other threads inside syscalls entered them before this turn began.
  if (turns().active) place_entries_before(task(), ~std::uint64_t{0});
  add_records(std::move(records), task());
}

void Recorder::drain_running(Task& t) {
  // Only for a process of one thread, or one whose turn this thread holds.
  Space& s = *t.space;
  if (!s.shim || (s.turns->active && s.turns->turn != t.tracee.tid()) || (s.threaded && !s.turns->active)) return;
  ShimRecords records = take_records(t.tracee, s.shim, s.shim_taken, Emptying::never);
  if (records.count) add_records(std::move(records), t);
}

void Recorder::add_records(ShimRecords records, Task& t) {
  int tid = t.tracee.tid();
  t.space->calls += records.count;
  // What the shim unmapped, mapped over or protected anew (without
  // PROT_EXEC: code gone, or about to be rewritten) is forgotten as a
  // traced call's exit forgets it, and before anything found or patched
  // there is used: the sites and rdtsc seen there, and what the site
  // finder searches.
  for (const MemoryChange& change : records.memory_changes) {
    if (change.unmapped) t.space->forget_code(change.start, change.end);
    if (finder_) finder_->forget(tid, change.start, change.end);
  }
  // The writer thread parses them into events. (The size is read before the
  // bytes move into the job: an argument's order is the compiler's.)
  std::size_t size = records.bytes.size();
  writer_.add_events(records.count, size,
                     [bytes = std::move(records.bytes), tid, files = name_mapped_files(records.mapped_files)](
                         trace::TraceWriter&, const std::function<void(Event&)>& out) { parse_records(bytes, tid, out, files); });
}

std::vector<MappedFileEvent> Recorder::name_mapped_files(const std::vector<MappedFile>& mapped) const {
  std::vector<MappedFileEvent> out;
  for (const MappedFile& m : mapped) {
    if (m.index >= mappable_.size())
      throw InternalError(fmt::format("the syscall buffer mapped file {} of the {} it may map", m.index, mappable_.size()));
    // As a traced mmap's event says it (after_mmap).
    MappedFileEvent e;
    e.content = file_view(mappable_entries_[m.index], m.addr, m.length, m.offset);
    e.info = trace::FileIdentity{mappable_[m.index][0], mappable_[m.index][1]}.to_info();
    out.push_back(std::move(e));
  }
  return out;
}

void Recorder::set_shim_flags(bool slow_next, bool stop_after) {
  if (!space().shim || (!slow_next && !stop_after && !task().shim_flags)) return;
  ttdb::set_shim_flags(tracee(), space().shim, slow_next, stop_after);
  task().shim_flags = slow_next || stop_after;
}

bool ending_or_killed(pid_t tid) {
  constexpr std::uint64_t kKillBit = 1ull << (SIGKILL - 1);
  std::ifstream status(fmt::format("/proc/{}/status", tid));
  if (!status) return true;
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("State:") && (line.find('Z') != std::string::npos || line.find('X') != std::string::npos))
      return true;
    if ((line.starts_with("SigPnd:") || line.starts_with("ShdPnd:")) && (std::stoull(line.substr(7), nullptr, 16) & kKillBit))
      return true;
  }
  return false;
}

bool Recorder::siblings_dying() const {
  // A process-wide kill sends SIGKILL to every other thread before the
  // killed one ends: it is pending there, or they are on their way out.
  for (const auto& [tid, t] : tasks_) {
    if (t.get() == task_ || t->tgid != task_->tgid) continue;
    if (ending_or_killed(tid) || t->exiting) return true;
  }
  return false;
}

void Recorder::on_exit(const WaitStatus& status) {
  pid_t tid = tracee().tid();
  end_output_turn(tid);
  std::erase(output_waiters_, tid);
  // Ended by another thread's exec that has no event yet: its end follows
  // that event, since in replay that exec is what ends it.
  Task* execing = task().ended_by_exec ? nullptr : execing_thread_of(task());
  if (execing) task().pending.reset();
  if (task().pending) {
    // Killed inside a syscall: it has an entry but no result.
    emit(std::move(task().pending->event));
    task().pending.reset();
  }
  Event e;
  e.kind = EventKind::exit;
  e.tid = tid;
  e.nr = status.code();
  e.args[0] = static_cast<std::uint64_t>(status.kind() == WaitStatus::Kind::exited ? trace::ExitKind::exited
                                                                                   : trace::ExitKind::killed);
  bool delivered = status.kind() == WaitStatus::Kind::exited || status.code() == task().last_delivered;
  e.args[1] = delivered ? 0 : 1;
  // Its own seccomp filter killed this thread alone (SECCOMP_RET_KILL_THREAD),
  // and the process goes on: replay must not end the others.
  if (!delivered && status.code() == SIGSYS && !siblings_dying()) e.args[2] = 1;
  if (execing) execing->ended_before_exec.push_back(std::move(e));
  else emit(std::move(e));
  if (tid == first_) first_status_ = status;
  if (turns().turn == tid) turns().turn = 0;
  waiting_tracers_.erase(tid);
  report_end_to_tracer(status);
  if (tid == task().tgid) release_tracees(tid);
  release_vfork_parent();
  tracee().forget();
  tasks_.erase(tid);
  task_ = nullptr;
  if (!tasks_.empty()) return;
  // The last one: the recording ends, with the status of the program ttdb started.
  WaitStatus ended = first_status_.value_or(status);
  namespace meta = trace::meta;
  writer_.set_meta(meta::exit_kind, ended.kind() == WaitStatus::Kind::exited ? "exited" : "killed");
  writer_.set_meta(meta::exit_code, std::int64_t{ended.code()});
  writer_.set_meta(meta::end_time_ns, now_ns());
  writer_.set_meta(meta::finished, std::int64_t{1});
  writer_.finish();
  outcome_ = RecordOutcome{ended, writer_.last_event_id(), true, ""};
}

void Recorder::stop_recording(const std::string& reason) {
  // A process's first thread reports its end only after the others'.
  for (auto& [tid, t] : tasks_)
    if (t->tgid && tid != t->tgid) t->tracee.kill();
  for (auto& [tid, t] : tasks_) t->tracee.kill();
  auto first = tasks_.find(first_);
  WaitStatus status = first != tasks_.end() ? *first->second->tracee.exit_status() : first_status_.value_or(WaitStatus());
  tasks_.clear();
  task_ = nullptr;
  writer_.set_meta(trace::meta::end_reason, reason);
  writer_.set_meta(trace::meta::end_time_ns, now_ns());
  writer_.finish();
  outcome_ = RecordOutcome{status, writer_.last_event_id(), false, reason};
}

}  // namespace recording
}  // namespace ttdb
