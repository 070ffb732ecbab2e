// Starting a recording: a program launched at its first exec (record), or
// a replayed process adopted where it goes live (record_live); the trace's
// header, and ttdb's own signals while the program runs.
#include <sys/sysinfo.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "recorder_state.h"
#include "ttdb/tracer/cpu_features.h"

namespace ttdb {
namespace recording {

namespace {
// The program's signals that terminate ttdb are passed on to the program.
pid_t g_forward_to = 0;
}  // namespace

void forward_signal(int sig) {
  if (g_forward_to > 0) ::kill(g_forward_to, sig);
}

namespace {

// Adds to `env` the GLIBC_TUNABLES that hold glibc to the baseline `name`.
void hold_to_baseline(const std::string& name, std::vector<std::string>& env) {
  auto baseline = cpu_baseline(name);
  if (!baseline) fail("there is no CPU baseline called {}; give x86-64, x86-64-v2, x86-64-v3 or x86-64-v4", name);
  auto lacking = missing_features(baseline->features, cpu_features());
  if (!lacking.empty())
    fail("this CPU lacks {}, which {} requires; record with a lower --cpu-baseline", fmt::join(lacking, ", "), baseline->name);
  // The user's own tunables stay; glibc takes the last value of each.
  for (auto& var : env)
    if (var.rfind("GLIBC_TUNABLES=", 0) == 0) {
      var += ":" + baseline->glibc_tunables;
      return;
    }
  env.push_back("GLIBC_TUNABLES=" + baseline->glibc_tunables);
}

}  // namespace

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
  if (!start.trap_tsc) writer_.set_meta(meta::rdtsc_patched, std::int64_t{1});
  auto features = cpu_features();
  if (auto baseline = cpu_baseline(options_.cpu_baseline)) {
    features = baseline->features;
    writer_.set_meta(meta::cpu_baseline, baseline->name);
  }
  writer_.set_meta(meta::cpu_features, fmt::format("{}", fmt::join(features, " ")));
  // Replay follows where the output goes in a stdout file, from here.
  if (auto out = stdout_file()) {
    writer_.set_meta(meta::stdout_offset, out->offset);
    writer_.set_meta(meta::stdout_size, out->size);
    writer_.set_meta(meta::stdout_append, std::int64_t{out->append});
  }
  writer_.post(0, [argv = start.argv, env = start.env](trace::TraceWriter& w) {
    w.set_argv(argv);
    w.set_env(env);
    w.set_syscall_names(all_syscall_names());
  });
  writer_.commit();
}

RecordOutcome Recorder::run(int cpu, const cpu_set_t& affinity) {
  recorder_no_new_privs();  // read before the program gets ttdb's settings
  LaunchOptions start;
  start.path = options_.program;
  start.argv = options_.argv;
  start.env = options_.env;
  rlimit stack{};
  ::getrlimit(RLIMIT_STACK, &stack);
  start.stack_limit = stack.rlim_cur;
  start.cpu = cpu;
  start.syscall_buffer = options_.syscall_buffer;
  if (options_.syscall_buffer) shim_setup_ = choose_shim_setup();
  start.shim = shim_setup_;
  start.no_new_privs = true;
  start.trap_tsc = options_.trap_rdtsc;
  // The program is told the CPUs it had (answer_as_without_ttdb); it runs
  // on ttdb's (record()).
  affinity_ = affinity;
  if (options_.syscall_buffer) finder_.emplace(start.cpu);
  note_outputs();
  write_header(start);

  Tracee first = launch(start);
  first_ = first.tid();
  g_forward_to = first_;
  auto& started = tasks_[first_] = std::make_unique<Task>(std::move(first));
  started->fresh = false;
  started->tgid = first_;
  started->tsc_trapped = options_.trap_rdtsc;
  task_ = started.get();
  if (auto signals = signal_state(first_)) {
    writer_.set_meta(trace::meta::signals_ignored, static_cast<std::int64_t>(signals->ignored));
    writer_.set_meta(trace::meta::signals_blocked, static_cast<std::int64_t>(signals->blocked));
    first_trap_ignored_ = signals->ignored & sigbit(SIGTRAP);
  }
  on_exec();
  RecordOutcome outcome = loop();
  g_forward_to = 0;
  return outcome;
}

RecordOutcome Recorder::run_live(LiveStart live) {
  writer_.continue_from(live.source_trace, live.last_event);
  // Replay pinned ttdb and the program to one CPU already; the program is
  // told every CPU (answer_as_without_ttdb), as go-live without --record
  // lets it run on every one.
  cpu_set_t pinned;
  if (::sched_getaffinity(0, sizeof pinned, &pinned) == 0 && CPU_COUNT(&pinned) == 1)
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
      if (CPU_ISSET(cpu, &pinned)) writer_.keep_off_cpu(cpu);
  CPU_ZERO(&affinity_);
  for (int cpu = 0; cpu < get_nprocs_conf() && cpu < CPU_SETSIZE; ++cpu) CPU_SET(cpu, &affinity_);
  note_outputs();
  Event junction;
  junction.kind = EventKind::live;
  junction.tid = live.recorded_pid;
  emit(std::move(junction));
  // The others stay behind, stopped: for the new trace they end here, as
  // if killed from outside (replay kills them there).
  for (int tid : live.left_behind) {
    Event end;
    end.kind = EventKind::exit;
    end.tid = tid;
    end.nr = SIGKILL;
    end.args[0] = static_cast<std::uint64_t>(trace::ExitKind::killed);
    end.args[1] = 1;
    emit(std::move(end));
  }
  first_ = live.live_pid;
  g_forward_to = first_;
  auto space = std::make_shared<Space>();
  space->rand = std::move(live.rand);
  space->trap_action = live.trap_action;
  space->inject_at = space->vdso_syscall = live.syscall_insn;
  space->threaded = live.threads.size() > 1;
  space->turns->active = space->threaded;
  std::vector<std::pair<Task*, bool>> entering;
  for (auto& thread : live.threads) {
    pid_t tid = thread.tracee.tid();
    recorded_tids_[tid] = thread.recorded_tid;
    auto& task = tasks_[tid] = std::make_unique<Task>(std::move(thread.tracee));
    task->fresh = false;
    task->tgid = first_;
    task->space = space;
    if (task->tracee.syscall_info().op == PTRACE_SYSCALL_INFO_ENTRY) entering.emplace_back(task.get(), thread.entry_placed);
  }
  // A thread stopped at a syscall's entry makes that call now, recorded.
  constexpr int kSyscallStop = ((SIGTRAP | 0x80) << 8) | 0x7f;
  for (auto [t, placed] : entering) {
    t->entry_in_trace = placed;
    task_ = t;
    take_stop(kSyscallStop);
    if (placed) t->entry_placed = true;
  }
  task_ = nullptr;
  RecordOutcome outcome = loop();
  g_forward_to = 0;
  return outcome;
}

void Recorder::note_outputs() {
  for (int fd : {1, 2}) {
    struct stat st {};
    if (::fstat(fd, &st) == 0) outputs_[static_cast<std::size_t>(fd - 1)] = {st.st_dev, st.st_ino};
  }
}

}  // namespace recording

namespace {

using recording::forward_signal;
using recording::Recorder;

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

RecordOutcome record_live(const RecordOptions& given, LiveStart start) {
  RecordOptions options = given;
  options.syscall_buffer = false;
  FdStreams streams(stdout_file().has_value());
  TraceThread writer(options.trace_path, options.trace_claimed, [&streams](trace::Event& e) { streams.annotate(e); });
  Recorder recorder(options, writer);
  SignalForwarding forwarding;
  return recorder.run_live(std::move(start));
}

RecordOutcome record(const RecordOptions& given) {
  // Before any trace is made: a CPU that does not meet the baseline is refused.
  RecordOptions options = given;
  if (!options.cpu_baseline.empty()) recording::hold_to_baseline(options.cpu_baseline, options.env);
  // Output streams are followed on the writer's thread, in event order.
  FdStreams streams(stdout_file().has_value());
  // Tracer and tracee on one CPU: a ptrace stop costs a third as much. ttdb
  // takes its CPU before it starts its threads, which leave it (leave_cpu):
  // one started while ttdb could still move took the CPU ttdb moved to for
  // as long as it ran (the writer, creating the trace: a millisecond).
  int cpu = pinning_cpu();
  cpu_set_t affinity;
  ::sched_getaffinity(0, sizeof affinity, &affinity);
  pin_to_cpu(cpu);
  TraceThread writer(options.trace_path, options.trace_claimed, [&streams](trace::Event& e) { streams.annotate(e); },
                     cpu);
  Recorder recorder(options, writer);
  SignalForwarding forwarding;
  return recorder.run(cpu, affinity);
}

}  // namespace ttdb
