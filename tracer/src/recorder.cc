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
#include <asm/unistd_64.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <optional>
#include <set>

#include "fd_streams.h"
#include "site_finder.h"
#include "trace_thread.h"
#include "ttdb/tracer/syscall_memory.h"
#include "ttdb/base/error.h"
#include "ttdb/base/log.h"
#include "ttdb/base/unique_fd.h"
#include "ttdb/trace/format.h"
#include "ttdb/tracer/exec_stack.h"
#include "ttdb/tracer/file_catalog.h"
#include "ttdb/tracer/launcher.h"
#include "ttdb/tracer/nondet_insn.h"
#include "ttdb/tracer/proc_maps.h"
#include "ttdb/tracer/record.h"
#include "ttdb/tracer/signals.h"
#include "ttdb/tracer/snapshot.h"
#include "ttdb/tracer/syscall_buffer.h"
#include "ttdb/tracer/syscall_sites.h"
#include "ttdb/tracer/inject.h"

namespace ttdb {
namespace {

using trace::Event;
using trace::EventKind;
using trace::MemWrite;
using trace::SignalDelivery;

constexpr std::size_t kPreviewBytes = 64;
// How long a signal that arrived while the program ran its own code waits
// for a syscall boundary before the program is stopped to take it.
constexpr std::chrono::milliseconds kLongestHold{50};
// A thread that runs on without a syscall while others of its program wait
// gives its turn up after this long (a snapshot names where it stopped).
constexpr std::chrono::milliseconds kTimeSlice{20};

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

bool is_error_result(std::int64_t ret) { return ret < 0 && ret > -4096; }

// A descriptor's file position, as the kernel shows it in fdinfo.
std::uint64_t fd_position(pid_t tid, int fd) {
  std::ifstream in(fmt::format("/proc/{}/fdinfo/{}", tid, fd));
  std::string key;
  std::uint64_t pos = 0;
  while (in >> key) {
    if (key == "pos:") {
      in >> pos;
      break;
    }
  }
  return pos;
}

// Mapped files larger than this are not kept whole in the trace's catalog.
constexpr std::uint64_t kLargestCatalogued = 256ull << 20;

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

// The program's signals that terminate ttdb are passed on to the program.
pid_t g_forward_to = 0;
void forward_signal(int sig) {
  if (g_forward_to > 0) ::kill(g_forward_to, sig);
}

// Where a task stands relative to a syscall boundary, for signals.
struct Boundary {
  enum class Kind { none, after_exit, after_signal } kind = Kind::none;
  std::uint64_t rip = 0, sp = 0;
  std::uint64_t pending = 0;  // signals queued when the last one was delivered
};

struct PendingSyscall {
  SyscallArgs call;
  Event event;
};

// What a process may ask the kernel about itself that ttdb changed: it is
// given the answers it would have had without ttdb. Kept across exec, as the
// kernel keeps these.
struct ProcessView {
  bool own_seccomp = false;      // it installed a seccomp filter of its own
  int tsc_mode = PR_TSC_ENABLE;  // what it set with PR_SET_TSC (ttdb keeps rdtsc trapping)
  bool own_no_randomize = false; // it asked for ADDR_NO_RANDOMIZE itself
};

// An address space: a program image, and ttdb's code in it.
struct Space {
  ProcessView view;
  bool maps_files_shared = false;  // a file write may change its memory
  RandPatcher rand;
  SyscallPatcher sites;
  bool shim = false;           // the syscall buffer is mapped
  bool outputs_traced = false; // its shim leaves ttdb's stdout and stderr to the traced path
  std::uint64_t inject_at = 0; // a syscall instruction for ttdb's own syscalls
  WrittenPages written;        // what snapshots copy: the pages written since the last one
  // Threads: one of them runs the program's code at a time (`turn`), so that
  // the trace's order is the order of what they did; see schedule().
  bool threaded = false;
  pid_t turn = 0;
  std::chrono::steady_clock::time_point turn_since;
};

// A recorded thread: a process's only one, or one of several sharing a Space.
struct Task {
  explicit Task(Tracee t) : tracee(std::move(t)) {}
  Tracee tracee;
  std::shared_ptr<Space> space;  // threads and a vfork child share their parent's
  bool stopped = true;           // waiting to be resumed
  bool fresh = true;             // its first stop (a new child's) is still to come
  bool shim_copied = false;      // a new process: the records in its copy of the shim are not its own
  bool shim_flags = false;       // flags asked of the shim that may still be set
  bool expect_exit_stop = false; // resume so that the syscall's exit stops
  bool expect_exec_exit = false;
  bool waiting_output = false;   // stopped at a write to ttdb's output until another one ends
  // A vfork parent comes back only after its child execs or exits; the
  // child's event may reach ttdb after the parent's stop, so that stop waits.
  pid_t vfork_child = 0;
  pid_t vfork_parent = 0;
  std::optional<int> deferred_stop;  // raw wait status
  // A syscall a signal interrupted, written at the task's next stop (the
  // signal's): another process's kill() may reach ttdb in between, and replay
  // wants the signal right after the call it interrupted.
  std::optional<Event> interrupted;
  // Threads (see schedule()): stopped at a syscall entry, to go into the
  // kernel (which needs no turn); stopped at its exit, dying (likewise);
  // when it became ready for a turn; asked to give its turn up.
  bool entering = false;
  bool exiting = false;
  pid_t tgid = 0;  // its process: the first thread's tid
  std::uint64_t ready_since = 0;
  bool preempt = false;
  // Its syscall in progress: when it entered, and whether a `blocked` event
  // already says so (another thread's event came first).
  std::uint64_t entered_at = 0;
  bool entry_placed = false;
  std::optional<PendingSyscall> pending;
  Boundary boundary;
  int resume_signal = 0;
  std::vector<siginfo_t> held;              // async signals waiting for a boundary
  std::chrono::steady_clock::time_point held_since;
  std::map<int, siginfo_t> injected;        // held signals sent again, by number
};

class Recorder {
 public:
  Recorder(const RecordOptions& options, TraceThread& writer)
      : options_(options), writer_(writer), files_(writer) {}

  RecordOutcome run();

 private:
  void write_header(const LaunchOptions& start);
  // Handles a stop of task_, given its raw wait status.
  void take_stop(int raw);
  // Resumes the tasks that may run (threads take turns).
  void schedule();
  // A thread holds its space's turn and runs on while others of it wait:
  // it may be asked to give the turn up.
  bool keeps_others_waiting(pid_t tid, const Task& t) const;
  // Writes an event (every event goes through here).
  void emit(Event e);
  void place_entries_before(Task& me, std::uint64_t before);
  // A `blocked` event for the entry of `t`'s syscall `call`.
  void place_entry(Task& t, const Event& call);
  // task_ is a vfork child that exec'd or exited: its parent's stop can go now.
  void release_vfork_parent();
  void on_exec();
  void after_exec();
  void on_syscall_stop();
  void on_syscall_entry(long nr, const std::uint64_t* args);
  void on_syscall_exit(const __ptrace_syscall_info& info);
  // The program changes a setting ttdb relies on (rdtsc trapping, no address
  // randomization): the call is changed to keep it, and the program's wish noted.
  void keep_ttdb_settings(const SyscallArgs& call);
  // The result (and memory) the program would have seen without ttdb, for
  // calls that ask about those settings or about seccomp; returns the result.
  std::int64_t answer_as_without_ttdb(const SyscallArgs& call, std::int64_t ret);
  // The syscall buffer: its records go to the trace before the stop's own event.
  void drain();
  // Syscall sites are found in the background, and patched at a syscall's
  // exit once they are: the program runs meanwhile, its syscalls traced.
  void find_sites(std::uint64_t start, std::uint64_t size, std::uint64_t offset, const std::string& file);
  void patch_found_sites();
  void set_shim_flags(bool slow_next, bool stop_after);
  // Delivers the held signals where the program stands now: a boundary.
  void deliver_held_here();
  void on_signal(int sig, const Boundary& previous);
  void on_exit(const WaitStatus& status);
  void after_mmap(const SyscallArgs& call, std::int64_t ret, Event& event, std::string& exec_file);
  // A write to a file that changed the caller's memory: through
  // /proc/PID/mem, or in a shared mapping of the file. The bytes go with the
  // call; false when the memory is another process's (not recordable).
  bool capture_write_effects(const SyscallArgs& call, std::int64_t ret, Event& e);
  static std::optional<std::pair<std::uint64_t, std::uint64_t>> remapped_range(const SyscallArgs& call);
  bool touches_ttdb_code(std::uint64_t start, std::uint64_t end) const;
  void resume(Task& t);
  // The next stop of any task; nullopt when the wait for a held signal's
  // boundary ran out (the tasks concerned are interrupted).
  std::optional<AnyStop> wait_next();
  void handle(const WaitStatus& status);
  void on_spawn();
  void on_first_stop();
  // With more than one process, output to ttdb's stdout and stderr is traced
  // so that the trace has it in the order it came.
  void trace_outputs();
  // Writes to ttdb's stdout or stderr by different processes happen one at
  // a time, in the order of their events: replay prints them in that order.
  bool writes_output(const SyscallArgs& call);
  void take_output_turn();
  void end_output_turn(pid_t tid);
  void on_interrupt();
  // The running thread's whole state, memory as written since the previous snapshot.
  Event snapshot();
  // The program stands in the shim or a trampoline with signals held: true
  // when that is so, and a boundary for them is at hand (or here).
  bool held_in_shim();
  void inject_held_signals();
  void hold_signal(const siginfo_t& info);
  void record_signal(const siginfo_t& info, SignalDelivery delivery);
  void stop_recording(const std::string& reason);
  void warn(const std::string& message);

  Task& task() { return *task_; }
  Tracee& tracee() { return task_->tracee; }
  Space& space() { return *task_->space; }
  const Space& space() const { return *task_->space; }

  const RecordOptions& options_;
  TraceThread& writer_;
  FileCatalog files_;
  std::map<pid_t, std::unique_ptr<Task>> tasks_;
  Task* task_ = nullptr;      // the task whose stop is being handled
  pid_t first_ = 0;           // the program ttdb started: its end is ttdb's
  std::optional<WaitStatus> first_status_;
  std::int64_t processes_ = 1;        // followed so far
  std::uint64_t ticks_ = 0;           // orders threads' syscall entries and their waits for a turn
  std::map<pid_t, int> early_stops_;  // children's first stops, come before their parent's fork event
  std::optional<SiteFinder> finder_;
  SiteCache cache_;
  std::array<std::pair<std::uint64_t, std::uint64_t>, 2> outputs_{};  // ttdb's stdout and stderr: {st_dev, st_ino}
  pid_t output_writer_ = 0;             // the task writing to them now
  std::deque<pid_t> output_waiters_;    // tasks stopped at a write to them, in order
  std::optional<RecordOutcome> outcome_;
};

void Recorder::warn(const std::string& message) {
  if (options_.warn) options_.warn(message);
}

void Recorder::write_header(const LaunchOptions& start) {
  namespace meta = trace::meta;
  writer_.set_meta(meta::ttdb_version, TTDB_VERSION);
  writer_.set_meta(meta::program, start.path);
  char* cwd = ::getcwd(nullptr, 0);
  writer_.set_meta(meta::cwd, cwd ? cwd : "");
  std::free(cwd);
  utsname uts;
  if (::uname(&uts) == 0) {
    writer_.set_meta(meta::hostname, uts.nodename);
    writer_.set_meta(meta::kernel, uts.release);
  }
  writer_.set_meta(meta::start_time_ns, now_ns());
  writer_.set_meta(meta::stack_limit, start.stack_limit == RLIM_INFINITY
                                           ? std::int64_t{-1}
                                           : static_cast<std::int64_t>(*start.stack_limit));
  writer_.set_meta(meta::finished, std::int64_t{0});
  writer_.set_meta(meta::no_new_privs, std::int64_t{start.no_new_privs});
  writer_.post(0, [argv = start.argv, env = start.env](trace::TraceWriter& w) {
    w.set_argv(argv);
    w.set_env(env);
    w.set_syscall_names(all_syscall_names());
  });
  writer_.commit();
}

RecordOutcome Recorder::run() {
  LaunchOptions start;
  start.path = options_.program;
  start.argv = options_.argv;
  start.env = options_.env;
  rlimit stack{};
  ::getrlimit(RLIMIT_STACK, &stack);
  start.stack_limit = stack.rlim_cur;
  start.cpu = pinning_cpu();
  start.syscall_buffer = options_.syscall_buffer;
  start.no_new_privs = true;
  // Tracer and tracee on one CPU: a ptrace stop costs a third as much.
  pin_to_cpu(start.cpu);
  writer_.keep_off_cpu(start.cpu);
  if (options_.syscall_buffer) finder_.emplace(start.cpu);
  for (int fd : {1, 2}) {
    struct stat st {};
    if (::fstat(fd, &st) == 0) outputs_[static_cast<std::size_t>(fd - 1)] = {st.st_dev, st.st_ino};
  }
  write_header(start);

  Tracee first = launch(start);
  first_ = first.tid();
  g_forward_to = first_;
  auto& started = tasks_[first_] = std::make_unique<Task>(std::move(first));
  started->fresh = false;
  started->tgid = first_;
  task_ = started.get();
  if (auto signals = signal_state(first_)) {
    writer_.set_meta(trace::meta::signals_ignored, static_cast<std::int64_t>(signals->ignored));
    writer_.set_meta(trace::meta::signals_blocked, static_cast<std::int64_t>(signals->blocked));
  }
  on_exec();

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
  g_forward_to = 0;
  return *outcome_;
}

void Recorder::take_stop(int raw) {
  WaitStatus status;
  if (!tracee().take_status(raw, status)) return;
  task().stopped = true;
  handle(status);
  if (task_ && !task().entering) task().ready_since = ++ticks_;
  // Signals that came while ttdb used the program for syscalls of its own
  // wait for a boundary, like any other.
  if (task_ && task().tracee.alive())
    for (const auto& info : task().tracee.take_deferred_signals()) hold_signal(info);
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

void Recorder::schedule() {
  // A task runs if it goes into the kernel, dies, or has its address
  // space's turn; a threaded space with no turn holder gives the turn to the
  // task that has waited longest.
  std::map<Space*, Task*> next;
  for (auto& [tid, t] : tasks_) {
    if (!t->stopped || t->fresh || t->waiting_output) continue;
    Space& space = *t->space;
    if (!space.threaded || t->entering || t->exiting || space.turn == tid) {
      resume(*t);
      continue;
    }
    if (space.turn) continue;
    Task*& best = next[&space];
    if (!best || t->ready_since < best->ready_since) best = t.get();
  }
  for (auto& [space, t] : next) {
    space->turn = t->tracee.tid();
    space->turn_since = std::chrono::steady_clock::now();
    resume(*t);
  }
}

void Recorder::emit(Event e) {
  auto self = tasks_.find(e.tid);
  if (self != tasks_.end() && self->second->space && self->second->space->threaded) {
    // A syscall event whose entry no event named yet stands for that entry:
    // only the threads that entered before it go first.
    Task& me = *self->second;
    bool own_entry = e.kind == EventKind::syscall && me.entered_at && !me.entry_placed;
    std::uint64_t before = own_entry ? me.entered_at : ~std::uint64_t{0};
    if (e.kind == EventKind::syscall) me.entered_at = 0;
    place_entries_before(me, before);
  }
  writer_.add_event(std::move(e));
}

void Recorder::place_entries_before(Task& me, std::uint64_t before) {
  // Another thread of this one's program is inside a syscall that began
  // before this point: its entry goes first, so that replay runs the
  // threads' code in the order they ran.
  std::vector<Task*> entered;
  for (auto& [tid, t] : tasks_)
    if (t.get() != &me && t->space == me.space && t->pending && !t->entry_placed && t->entered_at < before)
      entered.push_back(t.get());
  std::sort(entered.begin(), entered.end(), [](Task* a, Task* b) { return a->entered_at < b->entered_at; });
  for (Task* t : entered) place_entry(*t, t->pending->event);
}

void Recorder::place_entry(Task& t, const Event& call) {
  Event blocked = call;
  blocked.kind = EventKind::blocked;
  blocked.ret.reset();
  blocked.mem.clear();
  writer_.add_event(std::move(blocked));
  t.entry_placed = true;
}

void Recorder::resume(Task& t) {
  // With the buffer's seccomp filter, syscalls stop the recorder by themselves;
  // not those the program's own filter refuses (its verdict wins over
  // ttdb's), which only a stop at every syscall's entry sees.
  Resume how = !options_.syscall_buffer || t.expect_exit_stop || t.space->view.own_seccomp ? Resume::syscall
                                                                                            : Resume::cont;
  t.tracee.resume(how, std::exchange(t.resume_signal, 0));
  t.stopped = false;
  t.entering = false;
}

bool Recorder::keeps_others_waiting(pid_t tid, const Task& holder) const {
  if (!holder.space->threaded || holder.space->turn != tid || holder.stopped || holder.preempt) return false;
  for (const auto& [other_tid, t] : tasks_)
    if (t.get() != &holder && t->space == holder.space && t->stopped && !t->fresh && !t->entering && !t->exiting &&
        !t->waiting_output)
      return true;
  return false;
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
    if (keeps_others_waiting(tid, *t)) sooner(t->space->turn_since + kTimeSlice);
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
    if (keeps_others_waiting(tid, *t) && t->space->turn_since + kTimeSlice <= now) {
      t->tracee.interrupt();
      t->preempt = true;
    }
  }
  return std::nullopt;
}

void Recorder::handle(const WaitStatus& status) {
  if (task().fresh) {
    on_first_stop();
    return;
  }
  if (task().interrupted) emit(*std::exchange(task().interrupted, std::nullopt));
  Boundary previous = std::exchange(task().boundary, Boundary{});
  switch (status.kind()) {
    case WaitStatus::Kind::exited:
    case WaitStatus::Kind::killed: on_exit(status); break;
    case WaitStatus::Kind::syscall_stop: on_syscall_stop(); break;
    case WaitStatus::Kind::signal_stop: on_signal(status.code(), previous); break;
    case WaitStatus::Kind::group_stop:  // job control is not modelled: keep running
    case WaitStatus::Kind::not_resumed: break;
    case WaitStatus::Kind::event_stop:
      switch (status.event()) {
        case PTRACE_EVENT_EXEC: on_exec(); break;
        case PTRACE_EVENT_STOP: on_interrupt(); break;
        case PTRACE_EVENT_SECCOMP: on_syscall_stop(); break;
        case PTRACE_EVENT_FORK: case PTRACE_EVENT_VFORK: case PTRACE_EVENT_CLONE: on_spawn(); break;
        // About to exit: its memory is still there to take the last records from.
        case PTRACE_EVENT_EXIT:
          drain();
          task().exiting = true;
          break;
        default: break;
      }
      break;
  }
}

void Recorder::on_spawn() {
  Task& parent = task();
  auto child_tid = static_cast<pid_t>(parent.tracee.event_message());
  if (!parent.pending) throw InternalError(fmt::format("task {} made a child {} outside a syscall", parent.tracee.tid(), child_tid));
  auto spawn = spawn_args(parent.tracee, parent.pending->call);
  std::uint64_t flags = spawn ? spawn->flags : 0;
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

  if (flags & CLONE_THREAD && !parent.space->threaded) {
    // Threads take turns from now on, and so does their shared shim.
    drain();
    parent.space->threaded = true;
    parent.space->turn = 0;  // the parent is in the kernel now
  }
  auto child = std::make_unique<Task>(Tracee(child_tid));
  // A child that shares its parent's memory (a thread, or a vfork child) shares its space too.
  child->space = flags & CLONE_VM ? parent.space : std::make_shared<Space>(*parent.space);
  if (!(flags & CLONE_VM)) {
    // A process of its own, with one thread: its parent's turn is not its own.
    child->space->threaded = false;
    child->space->turn = 0;
    child->shim_copied = true;
  }
  child->tgid = flags & CLONE_THREAD ? parent.tgid : child_tid;
  Task& created = *(tasks_[child_tid] = std::move(child));
  if (flags & CLONE_VFORK) {
    parent.vfork_child = child_tid;
    created.vfork_parent = parent.tracee.tid();
  }
  // Its first stop may have come already.
  if (auto early = early_stops_.find(child_tid); early != early_stops_.end()) {
    int raw = early->second;
    early_stops_.erase(early);
    Task* parent_task = task_;
    task_ = &created;
    WaitStatus status;
    if (created.tracee.take_status(raw, status)) handle(status);
    task_ = parent_task;
  }
}

// Where a new child starts: returning from its parent's fork, through the
// same trampoline tail (replay moves it on the same way).
void Recorder::on_first_stop() {
  task().fresh = false;
  // Another thread of the parent may have made buffered calls while the
  // kernel copied the memory: they are the parent's, which keeps them.
  if (std::exchange(task().shim_copied, false) && space().shim) take_records(tracee());
  space().outputs_traced = false;  // its copy of the shim was made before its parent's was told
  trace_outputs();
  if (space().shim && space().sites.where(tracee().regs().rip) == SyscallPatcher::Where::slow_tail)
    space().sites.finish_tail(tracee());
}

void Recorder::trace_outputs() {
  if (!space().shim || space().outputs_traced) return;
  trace_files_in_shim(tracee(), outputs_);
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

void Recorder::on_exec() {
  Tracee& t = tracee();
  t.reopen_memory();
  InitialStack stack = prepare_initial_stack(t);
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
  if (auto file = files_.add(fmt::format("/proc/{}/exe", t.tid()), exe, "exe")) e.args[2] = static_cast<std::uint64_t>(file->id);
  // The only other file the kernel maps at exec is the ELF interpreter.
  for (const auto& m : read_maps(t.tid())) {
    if (m.path.empty() || m.path[0] != '/' || m.path == exe || m.offset != 0) continue;
    if (auto file = files_.add(m.path, m.path, "interp")) e.args[3] = static_cast<std::uint64_t>(file->id);
    break;
  }
  MemWrite block;
  block.addr = stack.sp.addr();
  block.data = t.read_bytes(stack.sp, stack.top.addr() - stack.sp.addr());
  block.size = block.data.size();
  e.mem.push_back(std::move(block));
  emit(std::move(e));

  ProcessView view = task().space ? space().view : ProcessView{};  // none yet at the first exec
  task().space = std::make_shared<Space>();
  space().view = view;
  space().rand.scan_process(t);
  if (finder_) finder_->clear(t.tid());
  task().shim_flags = false;
  task().pending.reset();
  task().expect_exec_exit = true;
  task().expect_exit_stop = true;
  release_vfork_parent();
}

void Recorder::after_exec() {
  if (!options_.syscall_buffer) return;
  Tracee& t = tracee();
  std::string exe = read_link(fmt::format("/proc/{}/exe", t.tid()));
  std::vector<Mapping> code;
  for (const auto& m : read_maps(t.tid())) {
    if (m.path == "[vdso]")
      if (auto bytes = t.try_read_bytes(RemotePtr(m.start), m.end - m.start)) space().inject_at = find_syscall_instruction(m.start, *bytes).value_or(0);
    if (m.executable && m.path == exe) code.push_back(m);
  }
  if (!space().inject_at) {
    warn("the program has no vDSO to borrow a syscall instruction from: it is recorded without the syscall buffer");
    return;
  }
  Event shim = shim_event(t.tid());
  apply_shim(t, space().inject_at, shim, ShimMode::record);
  emit(std::move(shim));
  space().shim = true;
  space().inject_at = shim_syscall_instruction();
  if (space().maps_files_shared) trace_file_writes_in_shim(t);
  if (tasks_.size() > 1) trace_outputs();
  for (const auto& m : code) find_sites(m.start, m.end - m.start, m.offset, fmt::format("/proc/{}/exe", t.tid()));
}

void Recorder::find_sites(std::uint64_t start, std::uint64_t size, std::uint64_t offset, const std::string& file) {
  // Sites the cache knows are patched at once.
  auto patch_known = [&](const ContentHash& hash) {
    auto known = cache_.load(hash, offset, size, start);
    if (!known) return false;
    if (auto patch = space().sites.patch_sites(tracee(), space().inject_at, *known)) emit(std::move(*patch));
    return true;
  };
  // The file catalog hashed this file version when the program mapped it: a
  // shell that runs 200 programs reads and hashes libc once, not 200 times.
  std::optional<ContentHash> hash;
  if (auto cataloged = files_.find(file)) hash = cataloged->hash;
  if (hash && patch_known(*hash)) return;
  // Read now: the file may change once the program goes on.
  auto bytes = read_whole_file(file);
  if (!bytes) return;
  if (!hash) {
    hash = content_hash(*bytes);
    if (patch_known(*hash)) return;
  }
  finder_->find(tracee().tid(), std::move(*bytes), *hash, start, size, offset);
}

void Recorder::patch_found_sites() {
  auto found = finder_->take_found(tracee().tid());
  // Another thread may stand in the bytes a patch rewrites, or come back
  // into them from the kernel, and its code would go astray: a process with
  // threads keeps the code it has as it is, and its syscalls there stop. A
  // module mapped later is patched when it is mapped, before any thread
  // runs in it.
  if (space().threaded) return;
  for (auto& module : found)
    if (auto patch = space().sites.patch_sites(tracee(), space().inject_at, module.sites)) emit(std::move(*patch));
}

void Recorder::drain() {
  if (!space().shim) return;
  // Only the thread whose turn it is runs the program's code, so the records
  // are its own; another thread's stop must not read them while it appends.
  if (space().threaded && space().turn != tracee().tid()) return;
  ShimRecords records = take_records(tracee());
  if (records.count == 0) return;
  // The other threads inside syscalls entered them before this turn began.
  if (space().threaded) place_entries_before(task(), ~std::uint64_t{0});
  int tid = tracee().tid();
  std::size_t size = records.bytes.size();
  writer_.add_events(records.count, size,
                     [bytes = std::move(records.bytes), tid](trace::TraceWriter&, const std::function<void(Event&)>& out) {
                       parse_records(bytes, tid, out);
                     });
}

void Recorder::set_shim_flags(bool slow_next, bool stop_after) {
  if (!space().shim || (!slow_next && !stop_after && !task().shim_flags)) return;
  ttdb::set_shim_flags(tracee(), slow_next, stop_after);
  task().shim_flags = slow_next || stop_after;
}

void Recorder::on_syscall_stop() {
  auto info = tracee().syscall_info();
  // Stopping at every syscall (the program filters its own), the shim's
  // calls stop too: its records have them already.
  if (space().view.own_seccomp && space().shim && info.instruction_pointer == shim_syscall_instruction() + 2 &&
      (info.op == PTRACE_SYSCALL_INFO_ENTRY || (info.op == PTRACE_SYSCALL_INFO_EXIT && !task().expect_exit_stop)))
    return;
  if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
    on_syscall_entry(static_cast<long>(info.entry.nr), info.entry.args);
  } else if (info.op == PTRACE_SYSCALL_INFO_SECCOMP) {
    // Stopped at the entry already (the program has a filter of its own).
    if (task().expect_exit_stop) return;
    on_syscall_entry(static_cast<long>(info.seccomp.nr), info.seccomp.args);
  } else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
    task().expect_exit_stop = false;
    end_output_turn(tracee().tid());
    on_syscall_exit(info);
  }
}

void Recorder::on_syscall_entry(long nr, const std::uint64_t* args) {
  Tracee& t = tracee();
  drain();
  // Whatever the recorder asked the shim for is moot now: this is a boundary.
  if (task().held.empty()) set_shim_flags(false, false);
  task().expect_exit_stop = true;
  SyscallArgs call;
  call.nr = nr;
  std::copy(args, args + 6, call.a);
  const SyscallInfo* si = find_syscall(call.nr);
  keep_ttdb_settings(call);
  task().entering = true;
  if (space().threaded) {
    task().entered_at = ++ticks_;
    task().entry_placed = false;
    // Its code stops here; another thread's may run while it is in the
    // kernel. Not for the calls replay runs for real, which never wait: two
    // threads' mmaps at once would leave the kernel to order them. One that
    // exits keeps the turn until it is gone (the others may wait for what
    // the kernel does at its end: clear its tid, wake its joiner).
    bool keeps_turn = si && (si->policy == ReplayPolicy::exit || si->policy == ReplayPolicy::execute ||
                             si->policy == ReplayPolicy::execute_set_ret || si->policy == ReplayPolicy::mmap);
    // But the first thread's end (pthread_exit in main) is reported only
    // once the others have ended: they must run meanwhile.
    if (call.nr == __NR_exit && t.tid() == task().tgid) keeps_turn = false;
    if (space().turn == t.tid() && !keeps_turn) space().turn = 0;
    bool exec = call.nr == __NR_execve || call.nr == __NR_execveat;
    if (exec && std::any_of(tasks_.begin(), tasks_.end(), [&](const auto& other) {
          return other.second.get() != task_ && other.second->tgid == task().tgid;
        })) {
      stop_recording(fmt::format("a thread of the program called {} at event {}; recording an exec from a program "
                                 "with threads is not supported yet",
                                 syscall_name(call.nr), writer_.last_event_id() + 1));
      return;
    }
  }
  if (si && si->policy == ReplayPolicy::spawn) {
    auto spawn = spawn_args(t, call);
    // A vfork child runs while its parent waits, and threads take turns; other processes that share memory would
    // share the syscall buffer too.
    if (spawn && (spawn->flags & CLONE_VM) && !(spawn->flags & (CLONE_VFORK | CLONE_THREAD)) && space().shim) {
      stop_recording(fmt::format("the program made a process that shares its memory ({} with CLONE_VM) at event {}; "
                                 "record it with --no-syscall-buffer",
                                 si->name, writer_.last_event_id() + 1));
      return;
    }
  }
  if (auto range = remapped_range(call); range && space().shim && touches_ttdb_code(range->first, range->second)) {
    stop_recording(fmt::format(
        "the program called {} at event {} on memory where ttdb keeps its syscall buffer ({:#x}-{:#x}); record it "
        "with --no-syscall-buffer",
        syscall_name(call.nr), writer_.last_event_id() + 1, range->first, range->second));
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
  if (si && si->policy == ReplayPolicy::exit) {
    emit(std::move(e));  // it never returns
    return;
  }
  if (tasks_.size() > 1 && writes_output(call)) take_output_turn();
  task().pending = PendingSyscall{call, std::move(e)};
  // Sent now, held signals interrupt this syscall if it blocks, and are
  // delivered right after its exit either way: a boundary replay can find.
  inject_held_signals();
}

void Recorder::keep_ttdb_settings(const SyscallArgs& call) {
  Tracee& t = tracee();
  Registers regs = t.regs();
  if (call.nr == __NR_prctl && call.a[0] == PR_SET_TSC && call.a[1] != PR_TSC_SIGSEGV) {
    regs.rsi = PR_TSC_SIGSEGV;
  } else if (call.nr == __NR_personality && call.a[0] != 0xffffffff && !(call.a[0] & ADDR_NO_RANDOMIZE)) {
    regs.rdi = call.a[0] | ADDR_NO_RANDOMIZE;
  } else {
    return;
  }
  t.set_regs(regs);
}

std::int64_t Recorder::answer_as_without_ttdb(const SyscallArgs& call, std::int64_t ret) {
  Tracee& t = tracee();
  ProcessView& view = space().view;
  std::optional<std::int64_t> answer;
  switch (call.nr) {
    case __NR_seccomp:
      if (ret == 0 && call.a[0] == SECCOMP_SET_MODE_FILTER) view.own_seccomp = true;
      break;
    case __NR_prctl:
      if (is_error_result(ret)) break;
      if (call.a[0] == PR_SET_SECCOMP) view.own_seccomp = true;
      if (call.a[0] == PR_GET_SECCOMP) answer = view.own_seccomp ? SECCOMP_MODE_FILTER : SECCOMP_MODE_DISABLED;
      if (call.a[0] == PR_SET_TSC) view.tsc_mode = static_cast<int>(call.a[1]);
      if (call.a[0] == PR_GET_TSC) t.write_value<int>(RemotePtr(call.a[1]), view.tsc_mode);
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
  std::int64_t ret = info.exit.rval;
  std::string exec_file;  // a file the program just mapped as code
  if (task().expect_exec_exit) {
    task().expect_exec_exit = false;
    after_exec();
  } else if (task().pending) {
    auto [call, e] = std::move(*task().pending);
    task().pending.reset();
    const SyscallInfo* si = find_syscall(call.nr);
    ret = answer_as_without_ttdb(call, ret);
    e.ret = ret;
    if (auto why = unrecordable(t, task().tgid, si, call, ret)) {
      stop_recording(fmt::format("event {} is a call to {}: replay could not reproduce it",
                                 writer_.last_event_id() + 1, *why));
      return;
    }
    e.mem = capture_outputs(t, si, call, ret);
    if (!capture_write_effects(call, ret, e)) {
      stop_recording(fmt::format("event {} is a call to {} that writes another process's memory through /proc: "
                                 "replay could not reproduce it",
                                 writer_.last_event_id() + 1, syscall_name(call.nr)));
      return;
    }
    if (!is_error_result(ret)) {
      switch (call.nr) {
        case __NR_mmap: after_mmap(call, ret, e, exec_file); break;
        case __NR_mprotect:
        case __NR_pkey_mprotect:
          if (call.a[2] & PROT_EXEC)
            if (auto code = t.try_read_bytes(RemotePtr(call.a[0]), call.a[1]))
              space().rand.scan_and_patch(t, call.a[0], *code);
          break;
        case __NR_munmap:
          space().rand.forget(call.a[0], call.a[0] + call.a[1]);
          space().sites.forget(call.a[0], call.a[0] + call.a[1]);
          break;
        default: break;
      }
    }
    // Code being searched for syscall sites may have changed.
    if (auto range = remapped_range(call); range && finder_) finder_->forget(t.tid(), range->first, range->second);
    // Descriptors the shim knows may now be other files; a vfork child,
    // done now, shared the shim's memory but had descriptors of its own.
    bool vforked = si && si->policy == ReplayPolicy::spawn && ret > 0 && (spawn_args(t, call).value_or(SpawnArgs{}).flags & CLONE_VM);
    switch (call.nr) {
      case __NR_close: case __NR_close_range: case __NR_dup2: case __NR_dup3:
        if (space().shim) forget_shim_fds(t);
        break;
      default:
        if (vforked && space().shim) forget_shim_fds(t);
        break;
    }
    std::uint64_t mapped_at = static_cast<std::uint64_t>(ret);
    if (tasks_.size() > 1 && (is_restart_result(ret) || ret == -EINTR)) {
      // Its result waits for its signal's stop, and other threads' events
      // may come first: its entry, which came before them, goes in now.
      if (space().threaded && !task().entry_placed) {
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
  std::uint64_t rip = info.instruction_pointer;
  if (space().shim && !is_restart_result(ret) && space().sites.where(rip) == SyscallPatcher::Where::slow_tail &&
      space().sites.finish_tail(t))
    rip = t.regs().rip;
  if (space().shim && !task().interrupted) patch_found_sites();  // not ahead of its event
  task().boundary = Boundary{Boundary::Kind::after_exit, rip, info.stack_pointer, 0};
}

// The range of memory a call would replace or change, if it names one.
std::optional<std::pair<std::uint64_t, std::uint64_t>> Recorder::remapped_range(const SyscallArgs& call) {
  const auto* a = call.a;
  switch (call.nr) {
    case __NR_mmap:
      if (a[3] & MAP_FIXED) return std::pair{a[0], a[0] + a[1]};
      return std::nullopt;
    case __NR_munmap: case __NR_mprotect: case __NR_pkey_mprotect: case __NR_madvise:
      return std::pair{a[0], a[0] + a[1]};
    case __NR_mremap:
      if (a[3] & MREMAP_FIXED) return std::pair{a[4], a[4] + a[2]};
      return std::pair{a[0], a[0] + a[1]};
    default: return std::nullopt;
  }
}

bool Recorder::touches_ttdb_code(std::uint64_t start, std::uint64_t end) const {
  bool shim = start < kShimEnd && end > kShimStart;
  return shim || space().sites.overlaps_trampolines(start, end);
}

void Recorder::after_mmap(const SyscallArgs& call, std::int64_t ret, Event& e, std::string& exec_file) {
  if (call.a[3] & MAP_ANONYMOUS) return;
  Tracee& t = tracee();
  if ((call.a[3] & MAP_TYPE) != MAP_PRIVATE && !space().maps_files_shared) {
    space().maps_files_shared = true;
    if (space().shim) trace_file_writes_in_shim(t);
  }
  std::string fd_path = fmt::format("/proc/{}/fd/{}", t.tid(), static_cast<int>(call.a[4]));
  struct stat st;
  if (::stat(fd_path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > kLargestCatalogued) {
    // Too large to keep whole (often a sparse file): what the mapping shows
    // of it goes into the event, holes left out (replay's memory is zero there).
    capture_file_extents(fd_path, static_cast<std::uint64_t>(ret), call.a[5],
                         std::min<std::uint64_t>(call.a[1], static_cast<std::uint64_t>(st.st_size) - std::min<std::uint64_t>(call.a[5], st.st_size)),
                         e.mem);
    return;
  }
  auto file = files_.add(fd_path, read_link(fd_path), "mmap");
  if (!file) return;  // a device such as /dev/zero: replay maps anonymous memory
  std::uint64_t offset = call.a[5];
  std::uint64_t size = file->size > offset ? std::min(call.a[1], file->size - offset) : 0;
  MemWrite content;
  content.addr = static_cast<std::uint64_t>(ret);
  content.size = size;
  content.file = file->id;
  content.file_offset = offset;
  e.mem.push_back(std::move(content));
  if ((call.a[2] & PROT_EXEC) && size > 0) {
    if (auto code = t.try_read_bytes(RemotePtr(static_cast<std::uint64_t>(ret)), size))
      space().rand.scan_and_patch(t, static_cast<std::uint64_t>(ret), *code);
    exec_file = fd_path;
  }
}

bool Recorder::capture_write_effects(const SyscallArgs& call, std::int64_t ret, Event& e) {
  if (ret <= 0) return true;
  std::optional<std::uint64_t> offset;  // where in the file the write began
  switch (call.nr) {
    case __NR_write: case __NR_writev: break;
    case __NR_pwrite64: case __NR_pwritev: offset = call.a[3]; break;
    case __NR_pwritev2: if (static_cast<std::int64_t>(call.a[3]) != -1) offset = call.a[3]; break;
    default: return true;
  }
  Tracee& t = tracee();
  std::string fd_path = fmt::format("/proc/{}/fd/{}", t.tid(), static_cast<int>(call.a[0]));
  struct stat st;
  static const dev_t proc_dev = [] {
    struct stat proc{};
    ::stat("/proc", &proc);
    return proc.st_dev;
  }();
  if (::stat(fd_path.c_str(), &st) != 0) return true;
  bool proc_file = st.st_dev == proc_dev;
  if (!proc_file && !(space().maps_files_shared && S_ISREG(st.st_mode))) return true;
  if (!offset) offset = fd_position(t.tid(), static_cast<int>(call.a[0])) - static_cast<std::uint64_t>(ret);
  auto bytes = static_cast<std::uint64_t>(ret);
  auto capture = [&](std::uint64_t addr, std::uint64_t size) {
    auto data = t.try_read_bytes(RemotePtr(addr), size);
    if (!data) return;
    MemWrite write;
    write.addr = addr;
    write.size = data->size();
    write.data = std::move(*data);
    e.mem.push_back(std::move(write));
  };
  if (proc_file) {
    std::string target = read_link(fd_path);
    if (!target.ends_with("/mem")) return true;
    pid_t owner = std::atoi(target.c_str() + std::strlen("/proc/"));
    auto found = tasks_.find(owner);
    if (found == tasks_.end() || found->second->tgid != task().tgid) return false;
    capture(*offset, bytes);
    return true;
  }
  for (const auto& m : read_maps(t.tid())) {
    if (!m.shared || m.inode != st.st_ino || m.dev != st.st_dev) continue;
    // The file's bytes [*offset, *offset + bytes) as this mapping shows them.
    std::uint64_t map_end = m.offset + (m.end - m.start);
    std::uint64_t from = std::max(*offset, m.offset), to = std::min(*offset + bytes, map_end);
    if (from < to) capture(m.start + (from - m.offset), to - from);
  }
  return true;
}

void Recorder::on_interrupt() {
  if (std::exchange(task().preempt, false) && space().turn == tracee().tid()) {
    std::uint64_t pc = tracee().regs().rip;
    if (space().shim && (in_shim(pc) || space().sites.where(pc) != SyscallPatcher::Where::elsewhere)) {
      // In ttdb's code, which keeps one call's state: ask again once it is out.
      space().turn_since = std::chrono::steady_clock::now() - kTimeSlice + std::chrono::milliseconds(1);
    } else {
      // Its turn ends here. Without a branch counter, its whole state names
      // the place: replay restores it there.
      drain();
      emit(snapshot());
      space().turn = 0;
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
  return capture_snapshot(tracee(), &space().written, process, space().inject_at);
}

bool Recorder::held_in_shim() {
  Tracee& t = tracee();
  std::uint64_t pc = t.regs().rip;
  auto where = space().sites.where(pc);
  if (!in_shim(pc) && where == SyscallPatcher::Where::elsewhere) return false;
  // Back in the program's flow (the call is over): a boundary right here.
  if ((where == SyscallPatcher::Where::done_tail || where == SyscallPatcher::Where::stop_tail) && space().sites.finish_tail(t)) {
    deliver_held_here();
    return true;
  }
  // Before a slow tail's syscall, the recorder stops at its entry anyway;
  // inside the shim, the call in progress ends at an int3.
  if (where != SyscallPatcher::Where::slow_tail) set_shim_flags(false, true);
  return true;
}

void Recorder::deliver_held_here() {
  // Queued now, they are delivered before the program runs an instruction.
  inject_held_signals();
  task().boundary = Boundary{Boundary::Kind::after_exit, tracee().regs().rip, tracee().regs().rsp, 0};
}

void Recorder::inject_held_signals() {
  for (const auto& info : task().held) {
    ::syscall(SYS_tgkill, tracee().tid(), tracee().tid(), info.si_signo);
    task().injected[info.si_signo] = info;
  }
  task().held.clear();
}

void Recorder::hold_signal(const siginfo_t& info) {
  TTDB_LOG(record, "holding {} until the next syscall boundary", signal_name(info.si_signo));
  if (task().held.empty()) task().held_since = std::chrono::steady_clock::now();
  task().held.push_back(info);
  // The next hooked syscall takes the traced path, where the boundary is.
  if (space().shim && !held_in_shim()) set_shim_flags(true, false);
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

void Recorder::on_signal(int sig, const Boundary& previous) {
  Tracee& t = tracee();
  drain();
  siginfo_t info = t.siginfo();
  const Registers& regs = t.regs();

  if (space().shim && sig == SIGTRAP && info.si_code == SI_KERNEL && space().sites.where(regs.rip - 1) == SyscallPatcher::Where::stop_tail) {
    // The shim came back through its int3, as asked: the held signals go now.
    space().sites.finish_tail(t);
    deliver_held_here();
    return;
  }
  if (space().shim && is_fault(info) && (in_shim(regs.rip) || space().sites.where(regs.rip) != SyscallPatcher::Where::elsewhere)) {
    stop_recording(fmt::format("ttdb's syscall buffer faulted ({} at {:#x}) at event {}; record the program with "
                               "--no-syscall-buffer, and please report it",
                               signal_name(sig), regs.rip, writer_.last_event_id() + 1));
    return;
  }

  if (sig == SIGSEGV && info.si_code == SI_KERNEL) {
    if (auto insn = tsc_instruction_at(t, RemotePtr(regs.rip))) {
      TscValue value = host_tsc(*insn);
      Event e;
      e.kind = EventKind::rdtsc;
      e.tid = t.tid();
      e.nr = insn->rdtscp ? 1 : 0;
      e.args = {regs.rip, value.tsc, value.aux, 0, 0, 0};
      emulate_tsc(t, *insn, value);
      emit(std::move(e));
      return;
    }
  }
  if (sig == SIGTRAP && info.si_code == SI_KERNEL) {
    if (const RandSite* site = space().rand.site_for_trap(regs.rip)) {
      std::uint64_t value = RandPatcher::host_random(*site);
      Event e;
      e.kind = EventKind::rdrand;
      e.tid = t.tid();
      e.nr = site->seed ? 1 : 0;
      e.args = {site->addr, value, 0, 0, 0, 0};
      RandPatcher::emulate(t, *site, value);
      emit(std::move(e));
      return;
    }
  }

  bool deliver_now = false;
  if (auto injected = task().injected.find(sig); injected != task().injected.end()) {
    info = injected->second;  // as it first arrived, not as ttdb resent it
    t.set_siginfo(info);
    task().injected.erase(injected);
    record_signal(info, SignalDelivery::at_boundary);
    deliver_now = true;
  } else if (is_fault(info)) {
    record_signal(info, SignalDelivery::natural);
    task().resume_signal = sig;
    return;
  } else if ((previous.kind == Boundary::Kind::after_exit && regs.rip == previous.rip &&
              regs.rsp == previous.sp) ||
             (previous.kind == Boundary::Kind::after_signal && (previous.pending & sigbit(sig)))) {
    record_signal(info, SignalDelivery::at_boundary);
    deliver_now = true;
  }
  if (!deliver_now) {
    hold_signal(info);
    return;
  }
  task().resume_signal = sig;
  // Other signals already queued are delivered before any instruction runs.
  task().boundary = Boundary{Boundary::Kind::after_signal, 0, 0, t.pending_signals()};
}

void Recorder::on_exit(const WaitStatus& status) {
  pid_t tid = tracee().tid();
  end_output_turn(tid);
  std::erase(output_waiters_, tid);
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
  emit(std::move(e));
  if (tid == first_) first_status_ = status;
  if (space().turn == tid) space().turn = 0;
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

}  // namespace

namespace {

void do_nothing(int) {}

// While recording, SIGTERM and SIGHUP sent to ttdb go to the program, and
// SIGINT/SIGQUIT, which the terminal sends to the program too, do not stop
// ttdb. Handlers (not SIG_IGN) are used so that the program, which inherits
// ignored signals across exec, starts with the dispositions ttdb had.
class SignalForwarding {
 public:
  SignalForwarding() {
    install(SIGTERM, forward_signal, 0);
    install(SIGHUP, forward_signal, 1);
    install(SIGINT, do_nothing, 2);
    install(SIGQUIT, do_nothing, 3);
  }
  ~SignalForwarding() {
    for (int i = 0; i < 4; ++i)
      if (installed_[i]) ::sigaction(signals_[i], &old_[i], nullptr);
  }
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;

 private:
  void install(int sig, void (*handler)(int), int slot) {
    signals_[slot] = sig;
    ::sigaction(sig, nullptr, &old_[slot]);
    if (old_[slot].sa_handler == SIG_IGN) return;  // the user wants it ignored: so does the program
    struct sigaction action {};
    action.sa_handler = handler;
    action.sa_flags = SA_RESTART;
    ::sigaction(sig, &action, nullptr);
    installed_[slot] = true;
  }
  int signals_[4] = {};
  struct sigaction old_[4] = {};
  bool installed_[4] = {};
};

}  // namespace

RecordOutcome record(const RecordOptions& options) {
  // Output streams are followed on the writer's thread, in event order.
  FdStreams streams;
  TraceThread writer(options.trace_path, options.trace_claimed, [&streams](trace::Event& e) { streams.annotate(e); });
  Recorder recorder(options, writer);
  SignalForwarding forwarding;
  return recorder.run();
}

}  // namespace ttdb
