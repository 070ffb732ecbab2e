// The recorder's state and its class, shared by the files that implement it:
// recorder_start.cc (a recording started or adopted), recorder.cc (the event
// loop, processes and threads, the trace), recorder_turns.cc (threads taking
// turns), recorder_file_writes.cc, and recorder_syscalls.cc and
// recorder_signals.cc (what each kind of stop means).
#pragma once

#include <asm/unistd_64.h>
#include <linux/futex.h>
#include <fcntl.h>
#include <sched.h>
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

namespace ttdb::recording {

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

// Passes a signal ttdb got on to the program (SIGTERM, SIGHUP).
void forward_signal(int sig);

// Helpers the recorder's files share (recorder.cc).
std::int64_t now_ns();
std::string read_link(const std::string& path);
// Whether a process maps memory that other processes may write (MAP_SHARED).
bool has_shared_writable_memory(pid_t pid);
// Whether the recorder itself runs with no_new_privs (read before it starts
// the program), as its programs would without it.
bool recorder_no_new_privs();
// The "#!" line of the script `path` names (as process `pid` sees it), without its newline; empty for a non-script.
Bytes shebang_line(pid_t pid, const std::string& path);
// Mapped files larger than this are not kept whole in the trace's catalog.
constexpr std::uint64_t kLargestCatalogued = 256ull << 20;
// The vDSO's syscall sites share the loader's page of trampolines when they
// are this close (the kernel puts them side by side; with address space
// randomization on they may be far apart).
constexpr std::uint64_t kNearby = 64ull << 20;
// What a mapping of `length` bytes of `file` from `offset`, at `addr`, shows
// of it: the event's memory write (nothing past the file's end).
MemWrite file_view(const FileCatalog::Entry& file, std::uint64_t addr, std::uint64_t length, std::uint64_t offset);
// The data of `size` bytes of a file from `offset`, as memory writes at
// `addr` onwards; the file's holes are skipped.
void capture_file_extents(const std::string& path, std::uint64_t addr, std::uint64_t offset, std::uint64_t size,
                          std::vector<trace::MemWrite>& out);

// Where a task stands relative to a syscall boundary, for signals.
struct Boundary {
  enum class Kind { none, after_exit, after_signal } kind = Kind::none;
  // The registers the program goes on with: a loop that comes back to the
  // same instruction has changed some of them (the same rip and sp alone
  // would take a signal a million iterations late for one at the boundary).
  Registers regs{};
  std::uint64_t pending = 0;  // signals queued when the last one was delivered

  static Boundary after_exit_with(const Registers& regs) { return Boundary{Kind::after_exit, regs, 0}; }
  // Right after a syscall's exit, nothing run since: a signal here comes
  // where it came without ttdb, before the program's next instruction.
  bool at_unmoved_exit(const Registers& now) const { return kind == Kind::after_exit && unmoved(now); }
  // Nothing has run since: every register is as it was.
  bool unmoved(const Registers& now) const {
    Registers a = regs, b = now;
    a.orig_rax = b.orig_rax = 0;  // the stop's own bookkeeping, not the program's
    a.eflags &= ~kResumeFlag;
    b.eflags &= ~kResumeFlag;
    return std::memcmp(&a, &b, sizeof a) == 0;
  }
  static constexpr unsigned long long kResumeFlag = 1ull << 16;  // RF: set by the kernel on some returns
};

struct PendingSyscall {
  SyscallArgs call;
  Event event;
  // ttdb answered the call itself (ptrace by the program, and the waits
  // that report its emulated stops): the kernel skipped it, this is its result.
  std::optional<std::int64_t> answered;
  // rt_sigaction setting SIGTRAP's action: the action, read at the entry
  // (the call may write the old one over it).
  std::optional<KernelSigaction> trap_action;
};

// A recorded task that another recorded process traces with ptrace. ttdb is
// the kernel's one tracer of every recorded task, so the program's tracer is
// emulated (ptrace_emulation.cc): this is what the kernel would keep for it.
struct EmulatedTracee {
  enum class Stop { signal, syscall_entry, syscall_exit, event, group };
  pid_t tracer = 0;              // the tracing process (its first thread's tid)
  bool seized = false;           // PTRACE_SEIZE rather than ATTACH or TRACEME
  std::uint64_t options = 0;     // PTRACE_SETOPTIONS
  Resume resumed = Resume::cont; // how the tracer last let it go on
  // Held for the tracer (ttdb does not resume it): how it stopped, and the
  // status its tracer's wait reports, until one has.
  bool stopped = false;
  Stop stop = Stop::signal;
  std::optional<int> wait_status;
  siginfo_t siginfo{};           // a signal-delivery stop's signal
  unsigned long event_message = 0;
  bool interrupt_asked = false;  // PTRACE_INTERRUPT: its next PTRACE_EVENT_STOP is the tracer's
  // The kernel's interrupt is sent (its stop not seen yet), or to be sent
  // when ttdb resumes it into its own code.
  bool interrupt_sent = false;
  bool interrupt_unsent = false;
  bool trap_after_exec = false;  // it exec'd (without TRACEEXEC): a SIGTRAP follows
  bool listening = false;        // PTRACE_LISTEN: stopped by job control until SIGCONT, or the tracer's interrupt
  // A SIGCONT ended its job-control stop while it stood stopped for the
  // tracer: a PTRACE_LISTEN ends at once, as the kernel's does.
  bool continued = false;
  // Its tracer is not its parent (an ATTACH by another process): the kernel
  // knows nothing of the tracer's waits for it, which ttdb answers alone.
  bool foreign = false;
  bool exit_stop_owed = false;   // stopped for an event at a syscall's exit: its exit stop comes next
  bool siginfo_set = false;      // PTRACE_SETSIGINFO at a signal stop: the signal goes with `siginfo`
};

// A tracee's end, kept for a tracer that is not its parent until it waits.
struct EndedTracee {
  pid_t tracer = 0;
  pid_t tid = 0;
  int status = 0;  // as wait reports it
};

// What a process may ask the kernel about itself that ttdb changed: it is
// given the answers it would have had without ttdb. Kept across exec, as the
// kernel keeps these.
struct ProcessView {
  bool own_seccomp = false;      // it installed a seccomp filter of its own
  int tsc_mode = PR_TSC_ENABLE;  // what it set with PR_SET_TSC (ttdb keeps rdtsc trapping)
  bool own_no_randomize = false; // it asked for ADDR_NO_RANDOMIZE itself
  bool own_no_new_privs = false; // it set no_new_privs itself (ttdb sets it for every recorded program)
};

// Tasks that take turns running the program's code, so that the trace's
// order is the order of what they did: the threads of a process, and the
// processes that share writable memory (see schedule()).
struct TurnGroup {
  bool active = false;  // more than one task may run
  pid_t turn = 0;
  std::chrono::steady_clock::time_point turn_since;
};

// An address space: a program image, and ttdb's code in it.
struct Space {
  ProcessView view;
  bool file_writes_show = false;  // a file write may change its memory (it maps a file shared, or from a writable descriptor)
  // Whether it has made shared memory (MAP_SHARED, a SysV segment), and
  // memory shared that it may write: only then are its maps read when it
  // forks or another process maps a file shared (share_turns_with_mappers).
  // Inherited at a fork, gone at an exec.
  bool shares_memory = false, shares_writable = false;
  // Its shim leaves rt_sigprocmask to the traced path: it has int3s of
  // ttdb's, which need each thread's mask known (Task::trap_blocked).
  bool masks_traced = false;
  RandPatcher rand;
  SyscallPatcher sites;
  // The code that was in [start, end) is gone (unmapped, or mapped over):
  // its rdtsc and syscall sites with it.
  void forget_code(std::uint64_t start, std::uint64_t end) {
    rand.forget(start, end);
    sites.forget(start, end);
  }
  ShimPlace shim;              // where the syscall buffer is mapped, if it is
  std::uint64_t shim_taken = 0;  // how much of its buffer the recorder has taken (take_records)
  bool outputs_traced = false; // its shim leaves ttdb's stdout and stderr to the traced path
  bool traces_others = false;  // a tracer of the program's: ttdb answers its waits, which its shim leaves traced
  std::uint64_t inject_at = 0; // a syscall instruction for ttdb's own syscalls
  std::uint64_t vdso_syscall = 0;         // the vDSO's own syscall instruction, if any
  std::vector<std::uint64_t> vdso_sites;  // the vDSO's functions' syscalls (exec_stack.h)
  std::vector<std::pair<std::uint64_t, std::uint64_t>> vdso_clocks;  // (exec_stack.h)
  std::uint64_t vdso_start = 0, vdso_end = 0;
  // Its clock functions run in the vDSO, called by the shim: rdtsc does not
  // fault in its threads, whose rdtsc and rdtscp have int3 (rand).
  bool clocks_in_vdso = false;
  // The dynamic loader's code, mapped by the kernel at exec: its sites'
  // trampolines go out of the way, where no mapping of the program's would
  // have gone (the program's own land where they would natively).
  std::uint64_t loader_start = 0, loader_end = 0;
  bool in_loader(std::uint64_t addr) const { return addr >= loader_start && addr < loader_end; }
  std::string loader_path;  // its file, as the kernel mapped it at exec
  std::string program;      // the program's file, as at exec
  std::optional<ContentHash> program_hash;  // its content's, when the catalog has it
  // The libraries' syscall sites are patched once the program has made
  // buffer_after calls the shim would have made unseen (patch_libraries):
  // patching them costs about as much as that many traced calls cost more
  // than buffered ones (so no program pays more than twice what the better
  // choice, known in hindsight, would have cost it), and most programs a
  // shell or make runs end sooner. Its own code's and the loader's are
  // patched at its exec: the loader makes most of a short program's calls.
  // Counted from the exec.
  bool libraries_later = false;
  unsigned bufferable_traced = 0;
  // Patched at its exec because an earlier run of its program went on to
  // make those calls; and how many syscalls it has made since its exec,
  // buffered or not: a run that ends short of them forgets that (below).
  bool libraries_at_exec = false;
  std::uint64_t calls = 0;
  WrittenPages written;        // what snapshots copy: the pages written since the last one
  // SIGTRAP's action as the program set it (zeros: the default), which the
  // rdtsc and rdrand sites' int3s would change (put_back_trap_action).
  KernelSigaction trap_action{};
  bool threaded = false;  // several threads share it
  std::shared_ptr<TurnGroup> turns = std::make_shared<TurnGroup>();
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
  // The new program's mappings, read at its exec stop, for its exec's exit
  // (the program has not run in between).
  std::optional<std::vector<Mapping>> exec_maps;
  bool waiting_output = false;   // stopped at a write to ttdb's output until another one ends
  bool job_stopped = false;      // in a job-control stop (PTRACE_LISTEN) until SIGCONT
  int job_signal = SIGSTOP;      // the signal that stopped it last
  bool own_affinity = false;     // it chose the CPUs it runs on (ttdb pins it to one); inherited
  // Whether it blocks SIGTRAP, as read before it last ran where ttdb's
  // int3s are (its space's rand sites); none: to read again, after a call
  // that changes its signal mask (put_back_trap).
  std::optional<bool> trap_blocked;
  // rdtsc faults for it (PR_SET_TSC), as the kernel has it; inherited, kept
  // across exec. Owed: its space traps rdtsc again, which it still has to
  // (trap_tsc_again()).
  bool tsc_trapped = true;
  bool tsc_owed = false;
  bool may_inject = false;  // stopped at a syscall's exit or a signal's stop
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
  // Inside a clone that made a task of its own space, not returned yet: no
  // task of the space takes a turn until it has (schedule()).
  bool spawning = false;
  pid_t tgid = 0;  // its process: the first thread's tid
  std::uint64_t ready_since = 0;
  bool preempt = false;
  // Its syscall in progress: when it entered, and whether a `blocked` event
  // already says so (another thread's event came first).
  std::uint64_t entered_at = 0;
  bool entry_placed = false;
  // go-live --record: stopped at an entry whose `blocked` event the trace
  // has already; its syscall event is all that is still to come.
  bool entry_in_trace = false;
  std::optional<PendingSyscall> pending;
  Boundary boundary;
  int resume_signal = 0;
  int last_delivered = 0;  // a signal it was resumed with since its last syscall
  std::vector<siginfo_t> held;              // async signals waiting for a boundary
  std::chrono::steady_clock::time_point held_since;
  std::map<int, siginfo_t> injected;        // held signals sent again, by number
  // Another thread of its process exec'd: the kernel ended this one, inside
  // whatever it was doing, and so does replay's exec.
  bool ended_by_exec = false;
  // In execve with other threads: the ends of those the kernel ended
  // already, written after the exec event, which is what ends them in replay.
  std::vector<Event> ended_before_exec;
  std::optional<EmulatedTracee> traced;  // traced by another recorded process
};

// Whether thread `tid` is gone, ending (a zombie), or has a SIGKILL waiting
// (another process killed it), from /proc: ttdb must not make it run
// anything of its own.
bool ending_or_killed(pid_t tid);

class Recorder {
 public:
  Recorder(const RecordOptions& options, TraceThread& writer)
      : options_(options), writer_(writer), files_(writer, cache_, options.pack) {}

  // Pins the program to `cpu`, ttdb's own already (pinning_cpu(), which the
  // writer left; -1: no pinning), and tells it the CPUs of `affinity`,
  // ttdb's before it took its CPU.
  RecordOutcome run(int cpu, const cpu_set_t& affinity);
  RecordOutcome run_live(LiveStart live);

 private:
  // Handles stops until the recording ends.
  RecordOutcome loop();
  // Which files ttdb's stdout and stderr are (outputs_).
  void note_outputs();
  // The tid events name for task `tid`: a live process's recorded one.
  pid_t recorded_tid(pid_t tid) const;
  void write_header(const LaunchOptions& start);
  // Handles a stop of task_, given its raw wait status.
  void take_stop(int raw);
  // Resumes the tasks that may run (threads take turns).
  void schedule();
  // A thread holds its space's turn and runs on while others of it wait:
  // it may be asked to give the turn up.
  bool keeps_others_waiting(pid_t tid, const Task& t) const;
  // task_ stopped without running an instruction since `previous`: that is
  // still its boundary.
  void keep_boundary(const Boundary& previous);
  // task_ stopped on its way out: the others of its space run no code until
  // its end is in the trace.
  void hold_turn_to_the_end();
  // Writes an event (every event goes through here).
  void emit(Event e);
  void place_entries_before(Task& me, std::uint64_t before);
  // A `blocked` event for the entry of `t`'s syscall `call` (or `call`
  // itself, when it is one already, with what the kernel wrote).
  void place_entry(Task& t, const Event& call);
  // A thread going into FUTEX_LOCK_PI runs alone until it sleeps in the
  // kernel; its `blocked` event keeps the lock word as it left it.
  static bool locks_pi_futex(const SyscallArgs& call);
  void settle_pi_lock(Task& t);
  // task_ is a vfork child that exec'd or exited: its parent's stop can go now.
  void release_vfork_parent();
  void on_exec();
  // The exec'ing thread's tid became its process's first thread's: its task
  // takes that tid, and the other threads of the old program end.
  void take_over_process(pid_t former);
  // The thread of `t`'s process that is in execve, if another one is.
  Task* execing_thread_of(const Task& t);
  void after_exec();
  // Maps the syscall buffer and patches the sites of the code mapped now
  // (the libraries' unless Space::libraries_later).
  void start_buffering();
  // Patches the sites of the libraries mapped since the exec.
  void patch_libraries();
  // Whether they may be patched now: one thread, its memory its own.
  bool may_patch_libraries();
  // Where ttdb may make a syscall in the current thread in one stop (ShimDoor).
  ShimDoor shim_door();
  // One more call or rdtsc the buffer would have made unseen: true when
  // that makes RecordOptions::buffer_after, and they may be patched now.
  bool counts_to_libraries();
  // Whether they are to be patched at this syscall's entry.
  bool libraries_due(long nr, const std::uint64_t* args);
  // Its next runs have them patched at their exec.
  void note_buffered_program();
  // A process that ends (or execs: `leaving` leaves its space) having had
  // them patched at its exec for little: fewer calls than the loader's and
  // libc's start and half of RecordOptions::buffer_after more (a `true`
  // that once printed its --help). Its program's next runs wait for the
  // calls again.
  void forget_buffered_program_if_short(const Task& leaving);
  // At the int3 of an rdtsc site, instead of the read: the program reads again.
  void patch_libraries_at_tsc(std::uint64_t site);
  // At a syscall's entry: the call is put off (skipped, and the thread
  // brought back to its syscall instruction), the libraries patched, and
  // the program makes the call again, through the buffer when its site is
  // patched.
  void patch_libraries_at_entry();
  void on_syscall_stop();
  void on_syscall_entry(long nr, const std::uint64_t* args);
  void on_syscall_exit(const __ptrace_syscall_info& info);
  // The identity of a regular file (trace::FileIdentity, as an event's
  // info), for replay's copies of files mapped shared; empty otherwise.
  static Bytes identity_of(const std::string& path);
  // MADV_DONTNEED on a private file mapping reads the file again, where
  // replay's memory there is anonymous: the bytes go into the event.
  void capture_reread_pages(const SyscallArgs& call, Event& e);
  // mremap made a private file mapping longer: what it shows of the file now.
  void capture_grown_file_view(const SyscallArgs& call, std::int64_t ret, Event& e);
  static bool truncates_at_open(Tracee& t, const SyscallArgs& call);
  // The program changes a setting ttdb relies on (rdtsc trapping, no address
  // randomization, tracing its children): the call is changed to keep it.
  void keep_ttdb_settings(const SyscallArgs& call);
  // rdtsc (recorder_tsc.cc): whether the current task's new program reads
  // the time stamp counter natively, its rdtsc sites patched; the shim
  // reads the clock in the vDSO; a call that may bring code no scan sees
  // (at its entry); the space `in` is in traps rdtsc again, each of its
  // threads before it runs its own code again (pay_tsc_owed, at resume);
  // an int3 at an rdtsc site, recorded.
  bool reads_tsc_untrapped();
  void read_clocks_in_vdso();
  void watch_code_writes(const SyscallArgs& call);
  void trap_tsc_again(Task& in, const char* why);
  void pay_tsc_owed(Task& t);
  // Its tracer wrote `size` bytes of `t`'s memory at `addr`: code there is scanned again.
  void rescan_for_tsc(Task& t, std::uint64_t addr, std::uint64_t size);
  bool on_tsc_site(RandSite site);  // (a copy: it may unpatch the site)
  // After an rdtsc or rdrand site's int3: SIGTRAP as the program set it
  // (put_back_trap_action).
  void put_back_trap();
  // Before `t` runs: whether it blocks SIGTRAP is known where a trap of
  // ttdb's would unblock it.
  void watch_trap_mask(Task& t);
  // An rdtsc or rdtscp at `at`, run by ttdb for the current task and recorded.
  void record_tsc(const TscInsn& insn, std::uint64_t at);
  // A syscall from inside the vDSO's clock code that the shim called: the
  // recording stops, saying so. Whether it was one.
  bool vdso_clock_made_syscall(std::uint64_t ip);
  // The result (and memory) the program would have seen without ttdb, for
  // calls that ask about those settings or about seccomp; returns the result.
  std::int64_t answer_as_without_ttdb(const SyscallArgs& call, std::int64_t ret);
  // A read of a /proc status file says "TracerPid: 0", and NoNewPrivs,
  // Seccomp and Seccomp_filters as without ttdb's own (numbers padded with
  // spaces to the same length): in the event's bytes `e.mem` and in the
  // program's memory.
  void show_status_as_without_ttdb(const SyscallArgs& call, Event& e);
  // The recorded task sched_setaffinity or sched_getaffinity names (0: the
  // caller), or nullptr for a process ttdb does not record.
  Task* affinity_target(std::uint64_t tid);
  // The syscall buffer: its records go to the trace before the stop's own
  // event. Inside a hooked call they are read where they are (the buffer is
  // emptied once the call is over), unless the thread is `ending`.
  void drain(bool ending = false);
  // The records of `t`'s process so far, taken where they are: it may be running.
  void drain_running(Task& t);
  void add_records(ShimRecords records, Task& t);
  void forget_rand_sites_patched(const Event& patch);
  // A file is mapped shared: writes to files become visible in memory, in every process.
  void show_file_writes_everywhere(const trace::FileIdentity& file);
  // Before a write to a file other processes map shared: their buffered
  // calls, which came before it, go into the trace first.
  void settle_mappers(const trace::FileIdentity& file);
  void settle_mapper(pid_t tid);
  // The call's EINTR came from signals the program ignores alone.
  static bool interrupted_by_ignored_signals(Tracee& t);
  // The signals the kernel drops as they are sent to the thread, natively:
  // those it ignores, by its own action or by default.
  static std::uint64_t discarded_signals(pid_t tid);
  // The calls that end with EINTR, never a restart code, when a signal wakes them.
  static bool fails_when_woken(long nr);
  // Whether replay may be brought to the entry of such a call ahead of its event.
  static bool places_entry_for_tracer(const SyscallInfo* si);
  // The call makes a vfork child (its parent waits in the kernel).
  static bool spawns_vfork(Tracee& t, const SyscallArgs& call);
  // The task just mapped `object` shared: processes of other turn groups
  // that map it too share their turns with its group from now on.
  void share_turns_with_mappers(const trace::FileIdentity& object, bool writable);
  // Whether `process` maps `file` shared (and writable, if asked).
  static bool maps_shared(pid_t process, const trace::FileIdentity& file, bool writable_only);
  // The current process made shared memory (which it may write).
  void note_shared_memory(bool may_write);
  void join_turns(const std::shared_ptr<TurnGroup>& other);
  // Syscall sites are found in the background, and patched at a syscall's
  // exit once they are: the program runs meanwhile, its syscalls traced.
  void find_sites(std::uint64_t start, std::uint64_t size, std::uint64_t offset, const std::string& file);
  // The sites of code mapped from `file` when the cache knows them; else
  // nullopt, and the finder looks for them in the background.
  std::optional<std::vector<SyscallSite>> known_sites(std::uint64_t start, std::uint64_t size, std::uint64_t offset,
                                                      const std::string& file);
  void patch_found_sites();
  // The vDSO's syscalls (those its functions became), which enter the
  // syscall buffer through the loader's trampolines.
  std::vector<SyscallSite> vdso_sites() const;
  // Patches `sites`, out of the way below the code or right below it
  // (SyscallPatcher::patch_sites), records the patch event, and tells the
  // shim where its trampoline pages are now.
  void patch_sites(const std::vector<SyscallSite>& sites, bool out_of_the_way, std::vector<Mapping>* maps = nullptr);
  void set_shim_flags(bool slow_next, bool stop_after);
  // Delivers the held signals where the program stands now: a boundary.
  void deliver_held_here();
  void on_signal(int sig, const Boundary& previous);
  void on_exit(const WaitStatus& status);
  void after_mmap(const SyscallArgs& call, std::int64_t ret, Event& event, std::string& exec_file);
  // A file version a traced mmap mapped private: the shims may map it
  // themselves from now on (mappable_).
  void offer_mappable(const struct stat& st, const FileCatalog::Entry& file);
  // What the events of the shim's mmaps of files say of them.
  std::vector<MappedFileEvent> name_mapped_files(const std::vector<MappedFile>& mapped) const;
  // A write to a file that changed the caller's memory: through
  // /proc/PID/mem, or in a shared mapping of the file. The bytes go with the
  // call; false when the memory is another process's (not recordable).
  bool capture_write_effects(const SyscallArgs& call, std::int64_t ret, Event& e);
  // The ranges of memory whose mapping a call changes: an mremap to a fixed
  // place changes two (what it moves away, and where it puts it).
  static std::vector<std::pair<std::uint64_t, std::uint64_t>> remapped_ranges(const SyscallArgs& call);
  bool touches_ttdb_code(std::uint64_t start, std::uint64_t end) const;
  void resume(Task& t);
  // The next stop of any task; nullopt when the wait for a held signal's
  // boundary ran out (the tasks concerned are interrupted).
  std::optional<AnyStop> wait_next();
  void handle(const WaitStatus& status);
  void on_spawn(int event);
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
  void on_group_stop(int sig, const Boundary& previous);
  // The current task's fellow threads are being killed with it.
  bool siblings_dying() const;
  // The running thread's whole state, memory as written since the previous snapshot.
  Event snapshot();
  // Whether the thread runs ttdb's code: the shim, its trampolines, or code a
  // call of the shim's runs (the vDSO's clock code), where it may not be
  // preempted or given a signal: the shim keeps one call's state.
  bool in_ttdb_code();
  // The program stands in ttdb's code with signals held: true when that is
  // so, and a boundary for them is at hand (or here).
  bool held_in_shim();
  void inject_held_signals();
  void hold_signal(const siginfo_t& info);
  // Signals the kernel gave while ttdb ran syscalls of its own in the program.
  void take_back_deferred_signals();
  void record_signal(const siginfo_t& info, SignalDelivery delivery);
  void stop_recording(const std::string& reason);

  // ptrace by the program, emulated (ptrace_emulation.cc). At the entry of
  // a ptrace, wait4 or waitid: ttdb answers it when it is ttdb's to answer
  // (the call is skipped, its outputs written into `e`).
  std::optional<std::int64_t> answer_tracer_call(const SyscallArgs& call, Event& e);
  std::optional<std::int64_t> emulate_ptrace(const SyscallArgs& call, Event& e);
  std::int64_t ptrace_on_tracee(Task& tracee, const SyscallArgs& call, Event& e);
  std::optional<std::int64_t> emulate_wait(const SyscallArgs& call, Event& e);
  std::int64_t start_tracing(Task& tracee, pid_t tracer, bool seized, std::uint64_t options);
  // The tracee `tid` of the calling process; with `stopped`, only while held for it.
  Task* tracee_of_caller(pid_t tid, bool stopped);
  // Writes the tracer's output at `addr`, and into its syscall event.
  bool give_tracer(Event& e, std::uint64_t addr, ByteView bytes);
  // task_ stops where its tracer sees it: held, its status for the tracer's wait.
  void stop_for_tracer(Task& t, EmulatedTracee::Stop kind, int status);
  void wake_tracer_waits(pid_t tracer);
  // Sends the tracer SIGCHLD for a stop or an end of tracee `tid`.
  void notify_tracer(pid_t tracer, pid_t tid, int status);
  // What a SIGCHLD ttdb sent `process` (a tracer) says, as the kernel's would.
  std::optional<siginfo_t> tracer_sigchld(pid_t process, const siginfo_t& received);
  // Whether the caller's wait is for tracees only ttdb can report on.
  bool waits_for_foreign_tracee(pid_t wanted);
  std::optional<std::int64_t> report_ended_tracee(const SyscallArgs& call, Event& e, pid_t wanted);
  std::int64_t answer_wait(const SyscallArgs& call, Event& e, pid_t tid, int status);
  void report_end_to_tracer(const WaitStatus& status);
  // The hooks: a signal about to be delivered (false: no tracer, deliver it),
  // a syscall stop, an exec, an exit (TRACEEXIT), a PTRACE_EVENT_STOP (false: not the tracer's).
  bool signal_for_tracer(const siginfo_t& info);
  // A job-control stop of a traced task, or the end of one it listened in.
  bool group_stop_for_tracer(int sig);
  void listen_ended_for_tracer();
  // Keeps a task in its job-control stop until SIGCONT (PTRACE_LISTEN).
  void hold_in_job_stop(Task& t);
  void syscall_stop_for_tracer(EmulatedTracee::Stop kind);
  void exec_for_tracer(pid_t former);
  void exit_for_tracer();
  // A traced task made `child` (a ptrace `event`: fork, vfork or clone):
  // with the matching PTRACE_O_TRACE* option both stop for the tracer,
  // which traces the child too.
  void spawn_for_tracer(Task& parent, Task& child, int event, std::uint64_t flags);
  // Its vfork child let it go on (PTRACE_O_TRACEVFORKDONE): a stop before the syscall's exit stop.
  bool vfork_done_for_tracer(pid_t child);
  // The kernel's interrupt for a PTRACE_INTERRUPT: sent as `t` resumes into
  // its own code; absorbed before ttdb's own syscalls in task_.
  void send_tracer_interrupt(Task& t);
  void absorb_tracer_interrupt();
  bool interrupt_for_tracer(const Boundary& previous);
  void resume_for_tracer(Task& tracee, Resume how, int sig);
  // The tracer set `t`'s registers: now, and in replay where it stands.
  void set_tracee_registers(Task& t, const Registers& regs);
  void emit_tracer_effect(Task& tracee, trace::PtraceEffect what, Event e);
  // A tracing process ended: the kernel detaches its tracees (or kills them: EXITKILL).
  void release_tracees(pid_t tracer);
  void warn(const std::string& message);

  Task& task() { return *task_; }
  Tracee& tracee() { return task_->tracee; }
  Space& space() { return *task_->space; }
  const Space& space() const { return *task_->space; }
  TurnGroup& turns() { return *task_->space->turns; }

  const RecordOptions& options_;
  // Where every process's syscall buffer goes, and the secret its untraced
  // syscalls carry: one seccomp filter serves the whole recording.
  ShimSetup shim_setup_;
  TraceThread& writer_;
  SiteCache cache_;
  FileCatalog files_;
  std::map<pid_t, std::unique_ptr<Task>> tasks_;
  Task* task_ = nullptr;      // the task whose stop is being handled
  pid_t first_ = 0;           // the program ttdb started: its end is ttdb's
  bool first_trap_ignored_ = false;  // it started with SIGTRAP ignored
  std::optional<WaitStatus> first_status_;
  std::int64_t processes_ = 1;        // followed so far
  std::uint64_t ticks_ = 0;           // orders threads' syscall entries and their waits for a turn
  // Emulated tracing: tracers blocked in a wait that only an emulated stop
  // or end can answer (ttdb holds them at the call's entry), the ends of
  // foreign tracees that their tracers have not waited for, and what the
  // SIGCHLD pending for each tracer says.
  std::set<pid_t> waiting_tracers_;
  std::vector<EndedTracee> ended_tracees_;
  std::map<pid_t, siginfo_t> tracer_sigchld_;
  // Files some process has mapped shared: every process's writes to them
  // are traced from then on, so that replay's copy of the file gets them.
  std::set<trace::FileIdentity> mapped_shared_;
  std::map<pid_t, int> early_stops_;  // children's first stops, come before their parent's fork event
  // Programs a run of which had its libraries patched (Space::libraries_later):
  // their next runs get it at exec, the cheapest place (make's 40 runs of
  // sha256sum pay the wait once; the site cache keeps them for the next
  // recordings, by content).
  std::set<std::string> buffered_programs_;
  std::optional<SiteFinder> finder_;
  // The file versions every process's shim may map itself, in the order the
  // shims number them (their records give the index), with their catalog
  // entries: those some traced mmap mapped private, up to kMostMappableFiles.
  // (Locale files, the loader's cache: make's 40 runs of sha256sum map 14.)
  std::vector<MappableVersion> mappable_;
  std::vector<FileCatalog::Entry> mappable_entries_;
  std::array<std::pair<std::uint64_t, std::uint64_t>, 2> outputs_{};  // ttdb's stdout and stderr: {st_dev, st_ino}
  cpu_set_t affinity_{};  // the CPUs ttdb could run on before it pinned itself and the program to one
  pid_t output_writer_ = 0;             // the task writing to them now
  std::deque<pid_t> output_waiters_;    // tasks stopped at a write to them, in order
  std::optional<RecordOutcome> outcome_;
  // go-live --record: the live threads' tids in the trace.
  std::map<pid_t, pid_t> recorded_tids_;
};

}  // namespace ttdb::recording
