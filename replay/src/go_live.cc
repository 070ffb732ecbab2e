// go-live: a replayed process runs on from where replay stands, by itself,
// as if it had never been recorded. Its memory, registers, signal handlers
// and mask are real in replay already; what replay only emulated (its
// files, its working directory) is made real here, and what ttdb put into
// it (syscall sites hooked, rdrand trapped, rdtsc faulting, its pinning to
// one CPU) is taken out. Then ttdb lets it go.
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <set>

#include "recorded_fds.h"
#include "session.h"
#include "ttdb/base/error.h"
#include "ttdb/trace/format.h"
#include "ttdb/trace/writer.h"
#include "ttdb/tracer/inject.h"
#include "ttdb/tracer/syscall_buffer.h"
#include "ttdb/tracer/syscall_table.h"

namespace ttdb {
namespace {

// One descriptor of the live process, and where it comes from: a path to
// open, or one of ttdb's standard streams (which the process holds as its
// own 0, 1 and 2 already: replay emulates the program's closes and dups).
struct Opening {
  int fd = 0;
  std::string path;  // empty: ttdb's stream `standard`, or an end of pipe `pipe`
  int standard = -1;
  int flags = 0;
  std::int64_t offset = 0;
  bool cloexec = false;
  int pipe = 0;
};

void must_have_done(std::int64_t result, int pid, const std::string& doing) {
  if (is_error_result(result)) fail("cannot {} in process {}: {}", doing, pid, errno_text(static_cast<int>(-result)));
}

class Injector {
 public:
  Injector(Tracee& thread, std::uint64_t syscall_insn, int pid) : t_(thread), insn_(syscall_insn), pid_(pid) {}

  std::int64_t call(long nr, const std::array<std::uint64_t, 6>& args = {}) { return inject_syscall(t_, insn_, nr, args); }
  // A call whose argument `path_arg` is `path`, put on the stack for the moment.
  std::int64_t call_with_path(long nr, const std::string& path, std::array<std::uint64_t, 6> args, int path_arg) {
    ByteView text(reinterpret_cast<const std::uint8_t*>(path.c_str()), path.size() + 1);
    return call_with_bytes(nr, text, args, path_arg, path);
  }
  // The same for bytes (`what` they are, should the stack have no room).
  std::int64_t call_with_bytes(long nr, ByteView bytes, std::array<std::uint64_t, 6> args, int arg, const std::string& what) {
    StackScratch scratch(t_, bytes);
    if (!scratch) fail("process {} has no stack to pass {} to the kernel; go live from another position", pid_, what);
    args[static_cast<std::size_t>(arg)] = scratch.addr().addr();
    return call(nr, args);
  }
  void must(std::int64_t result, const std::string& doing) { must_have_done(result, pid_, doing); }
  // A new pipe whose ends are at `above` or higher: out of the way of the
  // descriptors still to be placed.
  std::array<std::uint64_t, 2> make_pipe(std::uint64_t above) {
    int ends[2] = {-1, -1};
    {
      StackScratch array(t_, ByteView(reinterpret_cast<const std::uint8_t*>(ends), sizeof ends));
      if (!array) fail("process {} has no stack to make a pipe in; go live from another position", pid_);
      must(call(__NR_pipe2, {array.addr().addr(), O_CLOEXEC}), "make a pipe");
      auto bytes = t_.read_bytes(array.addr(), sizeof ends);
      std::memcpy(ends, bytes.data(), sizeof ends);
    }
    std::array<std::uint64_t, 2> out{};
    for (int i = 0; i < 2; ++i) {
      auto end = static_cast<std::uint64_t>(ends[i]);
      std::int64_t moved = call(__NR_fcntl, {end, F_DUPFD_CLOEXEC, above});
      must(moved, "move a pipe's end");
      call(__NR_close, {end});
      out[static_cast<std::size_t>(i)] = static_cast<std::uint64_t>(moved);
    }
    return out;
  }

 private:
  Tracee& t_;
  std::uint64_t insn_;
  int pid_;
};

// Why the descriptor `end` cannot be re-created, if it cannot: a pipe both
// of whose ends the process holds, empty, is made anew; nothing else that
// is neither a file nor a standard stream is.
std::optional<std::string> why_not_made_again(const std::map<int, std::pair<RecordedFd, bool>>& table,
                                              const RecordedFds& recorded, const RecordedFd& end) {
  if (end.kind == RecordedFd::Kind::standard || end.kind == RecordedFd::Kind::file) return std::nullopt;
  if (end.kind != RecordedFd::Kind::pipe) return end.path;
  bool other_end = false;
  for (const auto& [fd, entry] : table)
    other_end = other_end || (entry.first.pipe == end.pipe && (entry.first.flags & O_ACCMODE) != (end.flags & O_ACCMODE));
  if (!other_end) return "a pipe whose other end is gone";
  if (auto bytes = recorded.unread(end.pipe)) return fmt::format("a pipe holding {} unread byte{}", bytes, bytes == 1 ? "" : "s");
  return std::nullopt;
}

// What each recorded descriptor becomes; throws, naming the first that
// cannot be re-created, before anything is changed.
std::vector<Opening> plan_descriptors(const std::map<int, std::pair<RecordedFd, bool>>& table, const RecordedFds& recorded,
                                      int pid, const GoLiveOptions& options) {
  std::vector<Opening> plan;
  for (const auto& [fd, entry] : table) {
    const auto& [file, cloexec] = entry;
    // --null FD replaces any descriptor; --null-all those that cannot be re-created.
    auto why = why_not_made_again(table, recorded, file);
    bool null = options.null_fds.contains(fd) || (options.null_all && why);
    Opening o{fd, "", -1, 0, 0, cloexec};
    if (null) {
      o.path = "/dev/null";
      o.flags = O_RDWR;
    } else if (file.kind == RecordedFd::Kind::standard) {
      o.standard = file.standard;
    } else if (file.kind == RecordedFd::Kind::file) {
      o.path = file.path;
      o.flags = file.flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC);
      o.offset = file.offset;
      UniqueFd probe(::open(o.path.c_str(), o.flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
      if (!probe)
        fail("file descriptor {} of process {} was {}, which cannot be opened again ({}); restore it, or give the descriptor /dev/null "
             "with go-live --null {}",
             fd, pid, o.path, errno_text(errno), fd);
    } else if (why) {
      fail("file descriptor {} of process {} is {}, which go-live cannot re-create; give it /dev/null with go-live --null {} "
           "(or --null-all for every such descriptor)",
           fd, pid, *why, fd);
    } else {
      o.pipe = file.pipe;
      o.flags = file.flags & O_ACCMODE;
    }
    plan.push_back(o);
  }
  return plan;
}

// go-live --record's new trace: its name taken before the process changes,
// and given back if going live fails before the recording begins.
class ClaimedTrace {
 public:
  explicit ClaimedTrace(const std::string& path) : path_(path) {
    if (!path_.empty()) trace::TraceWriter::claim(path_);
  }
  ~ClaimedTrace() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  ClaimedTrace(const ClaimedTrace&) = delete;
  ClaimedTrace& operator=(const ClaimedTrace&) = delete;
  void keep() { path_.clear(); }

 private:
  std::string path_;
};

// Every CPU: replay pinned the program to one.
void unpin(int tid) {
  cpu_set_t all;
  CPU_ZERO(&all);
  for (int cpu = 0; cpu < get_nprocs_conf() && cpu < CPU_SETSIZE; ++cpu) CPU_SET(cpu, &all);
  ::sched_setaffinity(tid, sizeof all, &all);
}

}  // namespace

GoLiveResult ReplaySession::go_live(int tid, const GoLiveOptions& options) {
  if (state_.ended) fail("the program has ended; go live from a position before its end (reverse-continue, goto event N)");
  auto found = state_.tasks.find(tid);
  if (found == state_.tasks.end() || !tracees_.contains(tid))
    fail("thread {} is not running at event {}; go live where it is", tid, state_.current);
  TaskState& task = found->second;
  int pid = task.process(tid);
  // Every thread of the process goes live; the first one found is the one
  // looked at, which makes the process's own changes.
  std::vector<int> threads{tid};
  for (const auto& [other, state] : state_.tasks)
    if (other != tid && state.process(other) == pid) threads.push_back(other);
  bool recording = !options.record_to.empty();
  for (int other : threads) {
    const TaskState& state = state_.tasks.at(other);
    if (!tracees_.contains(other) || state.dying || state.exit_group_unsent || state.no_return)
      fail("thread {} of process {} is ending at event {}; go live from another position", other, pid, state_.current);
    // Its fork has made the child but not returned yet.
    if (state.spawn_entry)
      fail("thread {} of process {} is inside a fork at event {}; step on (stepi, or next) and go live there", other, pid,
           state_.current);
    // The kernel restarts a call a signal interrupted from what it kept of
    // it, which replay (emulating the call) never gave it: live, it fails
    // with EINTR; recorded, it would be a call the trace cannot replay.
    Tracee& each = tracees_.at(other);
    if (recording && each.entering_syscall() && each.syscall_info().entry.nr == __NR_restart_syscall)
      fail("thread {} of process {} is restarting a call a signal interrupted; step on (next) and go live --record there",
           other, pid);
  }
  // The shim, in the middle of a call, would finish it as replay's.
  if (task.shim && shim_in_call(tracees_.at(tid), task.shim))
    fail("process {} is inside ttdb's syscall buffer at this point; step on out of it (next, or finish) and go live there", pid);
  // The descriptors and directory the recording had here.
  RecordedFds recorded(reader_.meta(trace::meta::cwd).value_or("/"));
  auto cursor = reader_.cursor();
  for (trace::Event e; cursor.next(e) && e.id <= state_.current;) recorded.follow(e);
  auto table = recorded.table(tid);
  std::vector<Opening> plan = plan_descriptors(table, recorded, pid, options);

  // Recorded on: the new trace's name is taken before anything changes.
  ClaimedTrace claimed(options.record_to);
  Tracee& thread = tracees_.at(tid);
  Injector inject(thread, task.syscall_insn, pid);
  // A thread parked at a syscall's entry makes that call for real once live;
  // each thread has its own rdtsc trap to lift.
  std::map<int, Registers> entries;
  for (int other : threads) {
    Tracee& each = tracees_.at(other);
    // (Parked by a `blocked` event, or stopped at the entry of the call its next event is.)
    if (state_.tasks.at(other).parked || each.entering_syscall())
      entries[other] = skip_entered_syscall(each);
    // Recorded on, rdtsc and rdrand are trapped for the recorder: rdtsc
    // faults in every thread, since replay may have run code no scan saw
    // with only the rdtsc its events named faulting.
    if (!recording)
      must_have_done(inject_syscall(each, task.syscall_insn, __NR_prctl, {PR_SET_TSC, PR_TSC_ENABLE}), pid,
                     fmt::format("let rdtsc run in thread {}", other));
    else if (!state_.tasks.at(other).tsc_trapped)
      must_have_done(inject_syscall(each, task.syscall_insn, __NR_prctl, {PR_SET_TSC, PR_TSC_SIGSEGV}), pid,
                     fmt::format("make rdtsc fault in thread {}", other));
  }
  take_syscall_buffer_out(pid);
  // (The loader's xsavecs run as the CPU runs them, recorded on or not.)
  if (!recording) state_.rand_of(tid).unpatch_all(thread);
  else state_.rand_of(tid).unpatch_xsave(thread);
  inject.must(inject.call_with_path(__NR_chdir, recorded.cwd(tid), {}, 0), "enter the recorded directory " + recorded.cwd(tid));

  // Replay's own descriptors go; ttdb's streams (its 0, 1, 2) are kept
  // aside above every descriptor the process will have, then placed.
  inject.must(inject.call(__NR_close_range, {3, ~0u, 0}), "close replay's descriptors");
  std::uint64_t aside = std::max(3, table.empty() ? 3 : table.rbegin()->first + 1);
  for (std::uint64_t fd = 0; fd < 3; ++fd) inject.must(inject.call(__NR_fcntl, {fd, F_DUPFD, aside + fd}), "keep ttdb's streams");
  std::map<int, std::array<std::uint64_t, 2>> pipes;  // made anew: their ends, above every target
  for (const auto& o : plan) {
    auto target = static_cast<std::uint64_t>(o.fd);
    std::uint64_t flags = o.cloexec ? O_CLOEXEC : 0;
    if (o.pipe) {
      auto made = pipes.find(o.pipe);
      if (made == pipes.end()) made = pipes.emplace(o.pipe, inject.make_pipe(aside + 3)).first;
      auto end = made->second[(o.flags & O_ACCMODE) == O_RDONLY ? 0 : 1];
      inject.must(inject.call(__NR_dup3, {end, target, flags}), fmt::format("make a pipe's end fd {}", o.fd));
      continue;
    }
    if (o.path.empty()) {
      auto from = aside + static_cast<std::uint64_t>(o.standard);
      inject.must(inject.call(__NR_dup3, {from, target, flags}), fmt::format("give fd {} ttdb's stream {}", o.fd, o.standard));
      continue;
    }
    std::int64_t opened = inject.call_with_path(__NR_openat, o.path, {static_cast<std::uint64_t>(AT_FDCWD), 0,
                                                static_cast<std::uint64_t>(o.flags | O_CLOEXEC | O_NOCTTY)}, 1);
    inject.must(opened, fmt::format("open {} again as fd {}", o.path, o.fd));
    auto temporary = static_cast<std::uint64_t>(opened);
    if (temporary != target) {
      inject.must(inject.call(__NR_dup3, {temporary, target, flags}), fmt::format("make {} fd {}", o.path, o.fd));
      inject.call(__NR_close, {temporary});
    } else if (!o.cloexec) {
      inject.call(__NR_fcntl, {target, F_SETFD, 0});
    }
    if (o.offset > 0 && !(o.flags & O_APPEND))
      inject.must(inject.call(__NR_lseek, {target, static_cast<std::uint64_t>(o.offset), SEEK_SET}),
                  fmt::format("move fd {} to offset {} of {}", o.fd, o.offset, o.path));
  }
  for (const auto& [number, ends] : pipes)
    for (auto end : ends) inject.call(__NR_close, {end});
  for (std::uint64_t fd = 0; fd < 3; ++fd) {
    inject.call(__NR_close, {aside + fd});
    if (!table.contains(static_cast<int>(fd))) inject.call(__NR_close, {fd});
  }
  // Interval timers, as last set: how long was left is not recorded, so a
  // periodic one starts a new period, a one-shot one its whole value.
  for (auto [which, value] : recorded.timers(tid)) {
    if (value.it_interval.tv_sec || value.it_interval.tv_usec) value.it_value = value.it_interval;
    ByteView bytes(reinterpret_cast<const std::uint8_t*>(&value), sizeof value);
    inject.must(inject.call_with_bytes(__NR_setitimer, bytes, {static_cast<std::uint64_t>(which)}, 1, "a timer"),
                fmt::format("arm interval timer {}", which));
  }
  for (const auto& [other, entry] : entries) reenter_syscall(tracees_.at(other), task.syscall_insn, entry);
  // The recorded pids are not the live ones: replay's processes are new ones.
  int live = tracees_.contains(pid) ? tracees_.at(pid).tid() : thread.tid();
  if (!recording)
    for (int other : threads) unpin(tracees_.at(other).tid());
  std::set<int> others;
  for (const auto& [other, state] : state_.tasks)
    if (state.process(other) != pid) others.insert(state.process(other));
  if (options.handing_over) options.handing_over(live, std::vector<int>(others.begin(), others.end()));
  claimed.keep();
  if (recording) return GoLiveResult{live, record_on(options.record_to, tid, live, threads)};
  for (auto it = threads.rbegin(); it != threads.rend(); ++it) {
    tracees_.at(*it).detach();
    tracees_.erase(*it);
    state_.tasks.erase(*it);
  }
  return GoLiveResult{live, std::nullopt};
}

RecordOutcome ReplaySession::record_on(const std::string& trace_path, int looked_at_tid, int live_pid,
                                       const std::vector<int>& threads) {
  const TaskState& looked_at = state_.tasks.at(looked_at_tid);
  LiveStart start;
  start.source_trace = reader_.path();
  start.last_event = state_.current;
  start.live_pid = live_pid;
  start.recorded_pid = looked_at.process(looked_at_tid);
  start.rand = state_.rand_of(looked_at_tid);
  start.trap_action = state_.process_of(looked_at_tid).trap_action;
  start.syscall_insn = looked_at.syscall_insn;
  for (int tid : threads) {
    start.threads.push_back(LiveThread{std::move(tracees_.at(tid)), tid, state_.tasks.at(tid).parked.has_value()});
    tracees_.erase(tid);
    state_.tasks.erase(tid);
  }
  // The others end where the new trace goes live, each process's first
  // thread after its others (as the kernel reports a killed process's).
  for (const auto& [tid, state] : state_.tasks)
    if (state.process(tid) != tid) start.left_behind.push_back(tid);
  for (const auto& [tid, state] : state_.tasks)
    if (state.process(tid) == tid) start.left_behind.push_back(tid);
  RecordOptions options;
  options.trace_path = trace_path;
  options.trace_claimed = true;
  options.program = reader_.meta(trace::meta::program).value_or("");
  return record_live(options, std::move(start));
}

void ReplaySession::take_syscall_buffer_out(int pid) {
  // Each thread's patcher holds the sites patched by its own events.
  for (auto& [tid, state] : state_.tasks) {
    if (state.process(tid) != pid || !tracees_.contains(tid)) continue;
    Tracee& t = tracees_.at(tid);
    // The signal actions the shim gave back the setting of are the live
    // process's (apply_kept_actions did not get to it).
    if (state.shim && state.actions_kept) make_kept_actions_the_kernels(t, state);
    state.sites.unpatch_all(t);
    if (state.shim) turn_shim_off(t, state.shim);
    // Its syscalls no longer read a byte of the shim's (which the program may unmap).
    if (state.shim_stops) t.set_syscall_dispatch(false);
    state.sites = SyscallPatcher{};
    state.shim = ShimPlace{};
    state.shim_stops = {};
    state.free_running = false;
  }
}

void ReplaySession::apply_live(const trace::Event& e) {
  // From here the process ran live, recorded without ttdb's syscall buffer;
  // its end is the recording's, whatever the others' (which end next).
  int pid = task().process(e.tid);
  take_syscall_buffer_out(pid);
  state_.first = pid;
  state_.first_status.reset();
}

}  // namespace ttdb
