// The replay session: a tracee re-running the recorded program, moved from
// event to event. Each recorded event says what the program must do next;
// the session runs the program until it does, injects what the recording
// holds, and reports a Divergence the moment the two differ.
//
// Running towards the next event and applying it are separate steps, so that
// the engine above can stop the program's own code in between (breakpoints,
// single steps, watchpoints) and decide which stop belongs to the event.
#pragma once

#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include "event_stream.h"
#include "file_contents.h"
#include "shared_files.h"
#include "ttdb/replay/replay.h"
#include "ttdb/trace/reader.h"
#include "ttdb/tracer/inject.h"
#include "ttdb/tracer/nondet_insn.h"
#include "ttdb/tracer/syscall_buffer.h"
#include "ttdb/tracer/syscall_sites.h"
#include "ttdb/tracer/syscall_table.h"
#include "ttdb/tracer/tracee.h"

namespace ttdb {

// What the kernel does to the robust mutexes a thread holds when it ends:
// each one whose word holds the thread's tid is marked as its owner's death,
// for the next locker to find. The kernel compares the words with the
// replaying thread's own tid, but they hold the recorded one: ttdb does it
// instead, and the kernel then finds no word of that thread's.
void release_robust_futexes(Tracee& thread, pid_t recorded_tid);

// No limit on the events the syscall buffer may give back without a stop.
inline constexpr std::int64_t kNoEventLimit = std::numeric_limits<std::int64_t>::max();

// What the syscall buffer may give back without a stop while the program
// runs: events up to `until`, but none that writes memory in `watched` (a
// watchpoint's: the replayer applies those at a stop, where the engine
// compares the values; the shim's copies would set off the debug registers).
struct FastPath {
  std::int64_t until = kNoEventLimit;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> watched;  // [start, end)
  bool operator==(const FastPath&) const = default;
};

// One recorded process's progress that is not in its tracee itself.
struct TaskState {
  int resume_signal = 0;         // a signal to deliver when it resumes
  std::optional<std::int64_t> signal_sent_for;  // a boundary signal already queued
  bool no_return = false;        // its last syscall does not return
  RandPatcher rand;  // a process's first thread's: see SessionState::rand_of
  std::uint64_t syscall_insn = 0;  // a `syscall` instruction, for injecting syscalls
  // The syscall buffer: where it is mapped (shim, as the trace says), its
  // patched sites, and how many events from queued_first the replayer
  // queued for it to give back in-process.
  ShimPlace shim;
  std::uint64_t shim_version = 0;  // its ABI version (shim_abi.h), as recorded
  SyscallPatcher sites;
  std::int64_t queued_first = 0;
  std::uint64_t queued = 0;
  std::uint64_t queue_taken = 0;  // of those, already accounted for
  // Version 8: of the queued events, how many come up to the last one the
  // shim makes itself (0: none), which it makes only running free; where
  // the shim stops a free run (none: an older shim); and whether the
  // shim's free-run flag is set (it clears it at the stub).
  std::uint64_t queue_makes = 0;
  ShimStops shim_stops;
  bool free_running = false;
  // Signal actions the shim gave back the setting of and keeps, which the
  // kernel does not have yet (shim_abi.h, version 4: control.actions).
  bool actions_kept = false;
  // Where the shim copies what queued writes to ttdb's output wrote.
  std::vector<QueuedInput> queued_inputs;
  FastPath queued_for;            // what the queue was filled for
  // Stopped inside the fork, vfork or clone of a spawn event just applied
  // (its child exists): the registers at the call's entry, for its result.
  std::optional<Registers> spawn_entry;
  // Threads: its process has several (a fork would copy one), and the stop
  // at the entry of a syscall whose result comes later (a `blocked` event).
  bool threaded = false;
  std::optional<WaitStatus> parked;
  // Whether it blocks SIGTRAP, read before it runs (none: to read again,
  // after a call that changes its mask). An int3 of ttdb's unblocks it
  // (put_back_trap blocks it again), as it did in the recording.
  std::optional<bool> trap_blocked;
  bool entry_checked = false;  // its `blocked` event checked the entry (its tracer may change it since)
  bool dying = false;  // a thread of its process called exit_group: it ends, whatever it was doing
  bool exit_group_unsent = false;  // it called exit_group, still stopped at its entry
  // A SIGCONT was sent to its process: the kernel stops each of its threads
  // once to tell ttdb so (PTRACE_EVENT_STOP), a stop the program never sees.
  bool continue_trap = false;
  // Its (the program's own) tracer let it go on by one instruction: the
  // next run is a single step.
  bool step_next = false;
  // Descriptors of files replay opened in the process to map them, kept
  // open for the next mappings of the same files (in its first thread's
  // state): {file id, fd}, the most recently used last. The program never
  // sees them, since replay gives it its own descriptors' results from the
  // recording; they close at an exec (O_CLOEXEC) and go-live closes them.
  std::vector<std::pair<std::int64_t, std::int64_t>> mapping_fds;
  // SIGTRAP's action as the program set it (zeros: the default), put back
  // after each rdtsc or rdrand int3 (put_back_trap_action). Its process's.
  KernelSigaction trap_action{};
  bool at_signal_stop = false;  // stopped at the delivery of its last signal event's signal
  // rdtsc faults in the thread (PR_SET_TSC), as in the recording once code
  // no scan sees could run: replay made it so (or it owes that, and pays
  // before it next runs). Off at the start unless the trace has no
  // rdtsc_patched (then every thread faults from the start).
  bool tsc_trapped = false;
  bool tsc_owed = false;
  int leader = 0;  // a thread's: the recorded tid of its process's first thread
  // The recorded tid of the first thread of the process of task `tid` (this one).
  int process(int tid) const { return leader ? leader : tid; }
  // It advised memory out of forks (MADV_DONTFORK, MADV_WIPEONFORK), which
  // a checkpoint's fork must keep nonetheless.
  bool fork_advice = false;
  // It shares its memory with another process (clone with CLONE_VM only),
  // which no checkpoint can keep.
  bool shares_memory = false;
  // Pages the engine mapped for its arrival counters (replay's own: they
  // exist in no recording, and an exec takes them away).
  std::vector<std::uint64_t> counter_pages;
  // A process's System V shared memory attachments (kept in its first
  // thread's state): the recorded segment id, and where each is attached.
  // A second attachment of a segment maps the same pages as the first.
  std::map<std::uint64_t, std::vector<std::uint64_t>> shm_attachments;

  // True when nothing is pending that a fork of the process would lose.
  // (A parked thread is put back at its syscall's entry.)
  bool can_checkpoint() const {
    return !no_return && resume_signal == 0 && !signal_sent_for && !spawn_entry && !dying && !shares_memory && !step_next;
  }
};

// Everything about a session's progress that is not in the tracees
// themselves: plain data, so that a checkpoint can keep a copy.
// The recorded stdout, when it was a regular file (trace meta
// stdout_offset): where the program's writes went in it, followed event by
// event, relative to where it stood when the recording began.
struct OutputFile {
  bool followed = false;
  std::int64_t base = 0;  // where it stood when the recording began
  std::int64_t position = 0, size = 0;
  bool append = false;
};

struct SessionState {
  std::int64_t current = 0;        // the last event applied
  OutputFile stdout_file;
  std::map<int, TaskState> tasks;  // the live processes, by their recorded tid
  int acting = 0;                  // the recorded tid of the process that moves next
  int first = 0;                   // the program ttdb started: its end is the program's
  std::optional<WaitStatus> first_status;
  std::optional<WaitStatus> ended;  // every process has ended; the first one's status

  // The live tasks by process: the recorded tid of its first thread, and
  // the recorded tids of its live threads.
  std::map<int, std::vector<int>> by_process() const;
  // The rdrand and rdtsc sites of task `tid`'s process, whichever of its
  // threads mapped their code (its first thread's state keeps them).
  // What `tid`'s process keeps in its first thread's state.
  TaskState& process_of(int tid) { return tasks.at(tasks.at(tid).process(tid)); }
  const TaskState& process_of(int tid) const { return tasks.at(tasks.at(tid).process(tid)); }
  RandPatcher& rand_of(int tid) { return process_of(tid).rand; }
  const RandPatcher& rand_of(int tid) const { return process_of(tid).rand; }
};

class ReplaySession {
 public:
  ReplaySession(const std::string& trace_path, OutputSink& sink);
  ~ReplaySession();
  ReplaySession(const ReplaySession&) = delete;
  ReplaySession& operator=(const ReplaySession&) = delete;

  // Whether replay runs the loader's xsavecs itself (nondet_insn.h), so
  // that a stretch run again from a checkpoint leaves the bytes it left:
  // for replays that travel; a run straight to the end runs no stretch
  // twice. Before start().
  void run_xsave_exactly(bool on) { exact_xsave_ = on; }
  // Launches the program and applies the exec event: the program is at its
  // first instruction.
  void start();
  // Applies the next event the simple way. False when there is none left.
  bool step();

  // The event to apply next; nullptr at the end of the recording.
  const trace::Event* next_event();
  // Runs the program's own code (or kills it, when the recording says it was
  // killed there) and returns the next stop. Anything the engine did not
  // cause itself is the next event's first stop, for apply_next(). Buffered
  // syscalls up to event `fast_until` may be given back in-process on the
  // way, without a stop: current_event() then moves on by itself.
  WaitStatus run(Resume how, const FastPath& fast = {});
  // Applies the next event, given the stop that begins it.
  void apply_next(const WaitStatus& first_stop);

  std::int64_t current_event() const { return state_.current; }
  const std::optional<WaitStatus>& ended() const { return state_.ended; }
  // True when nothing is pending that forks of the processes would lose.
  bool can_checkpoint() const;
  const trace::TraceReader& reader() const { return reader_; }
  // The process that moves next (the next event's), as recorded and live.
  int acting_tid() const { return state_.acting; }
  Tracee& tracee();
  const TaskState& task_state() const;
  // The engine's arrival counter pages in the acting task's process.
  std::vector<std::uint64_t>& counter_pages() { return task().counter_pages; }
  // Every live process, by recorded tid.
  std::map<int, Tracee>& tracees() { return tracees_; }
  SharedFiles& shared_files() { return shared_files_; }
  FileContents& files() { return files_; }
  const std::map<int, Tracee>& tracees() const { return tracees_; }

  const SessionState& state() const { return state_; }
  // Turns task `tid`'s process into a live one that runs on from here
  // without ttdb: its descriptors and working directory as recorded, ttdb's
  // own code taken out of it (go_live.cc). Returns its (live) pid; the session
  // holds it no more. Throws ttdb::Error, changing nothing, when it cannot.
  GoLiveResult go_live(int tid, const GoLiveOptions& options);
  // Kills every tracee, each process's first thread last.
  void end_tracees();
  // Continues from a checkpoint: its tracees (forks), by recorded tid, and its state.
  void restore(std::map<int, Tracee> tracees, const SessionState& state);
  // Puts the event stream back at the event after `current`.
  void seek_cursor(std::int64_t current);

  // Throws the Divergence that says what event `e` expected and what the
  // program did instead.
  [[noreturn]] void diverge(const trace::Event& e, const std::string& what);
  std::string describe_stop(const WaitStatus& status);

 private:
  std::optional<trace::Event> take_event();
  // The process whose event is next acts next.
  void follow_cursor();

  void apply_exec(const trace::Event& e, const WaitStatus& first);
  // Runs an execve made in a process with threads to its exec stop: the
  // other threads end, and the exec'ing one may take the first's tid.
  WaitStatus exec_from_threads(const trace::Event& e);
  // At the entry of an execveat of a descriptor the replay does not have:
  // gives the program that descriptor, on a copy of the recorded program.
  void provide_exec_descriptor(const trace::Event& e);
  void run_interpreter_directly(const trace::Event& e, bool with_loader);
  void run_program_copy(const trace::Event& e, bool with_loader);
  const FileCopy& program_with_loader(const trace::Event& e, std::int64_t loader_fd);
  void restore_loader_name(const trace::Event& e, std::uint64_t at_phdr);
  [[noreturn]] void cannot_run_copy(const trace::Event& e);
  std::string first_program_path(const trace::Event& e) const;
  static bool starts_with_hashbang(const std::string& path);
  // The trace's copy of file `id`, opened by the program stopped at its exec: the descriptor.
  std::int64_t open_program_copy(const trace::Event& e, std::int64_t id);
  // The program's copy that names the trace's copy of its loader (opened too).
  std::int64_t open_program_with_loader(const trace::Event& e);
  std::int64_t open_copy(const trace::Event& e, const std::string& path);
  void apply_memory_limit(const trace::Event& e);
  // Runs `nr` in the tracee stopped at a syscall's entry, which then enters
  // that syscall again; returns nr's result.
  std::int64_t call_before_entry(const trace::Event& e, long nr, const std::array<std::uint64_t, 6>& args);
  // The program, stopped at a syscall's entry, opens `path` (O_CLOEXEC
  // added) before it makes its call: the descriptor, or -errno.
  // (Close-on-exec unless `cloexec` says otherwise.)
  std::int64_t open_before_entry(const trace::Event& e, const std::string& path, int flags, bool cloexec = true);
  void apply_syscall(const trace::Event& e, const WaitStatus& first);
  void apply_signal(const trace::Event& e, const WaitStatus& first);
  void apply_rdtsc(const trace::Event& e, const WaitStatus& first);
  void give_tsc_at_miss(const trace::Event& e);
  void leave_trampoline();
  // After an int3 of ttdb's: SIGTRAP as the program set it (put_back_trap_action).
  void put_back_trap();
  void apply_rdrand(const trace::Event& e, const WaitStatus& first);
  void apply_exit(const trace::Event& e, const WaitStatus& first);
  void apply_snapshot(const trace::Event& e, const WaitStatus& first);
  void apply_patch(const trace::Event& e);
  void apply_spawn(const trace::Event& e, const WaitStatus& first);
  void apply_blocked(const trace::Event& e, const WaitStatus& first);
  void apply_ptrace(const trace::Event& e);
  // The process went on live, recorded without the syscall buffer.
  void apply_live(const trace::Event& e);
  // Puts the syscall sites of process `pid` back as the program had them
  // and turns its shim off (go-live, and a `live` event).
  void take_syscall_buffer_out(int pid);
  // go-live --record: hands `threads`, task `looked_at_tid`'s process's, over to a recorder.
  RecordOutcome record_on(const std::string& trace_path, int looked_at_tid, int live_pid, const std::vector<int>& threads);
  void restart_interrupted_call();
  // The spawn syscall's own event, once its child is there.
  void finish_spawn(const trace::Event& e, const WaitStatus& first);
  TaskState& task();

  // The syscall buffer's queue (replay_queue.cc).
  void sync_queue();
  bool shim_keeps_action(const trace::Event& e) const;
  bool shim_keeps_actions() const;  // whether the process's shim keeps the actions queued calls set
  WaitStatus apply_kept_actions(const WaitStatus& status);
  // Has the shim make the actions it kept the kernel's, from wherever `t`
  // stands (not a syscall's entry); its registers and siginfo stay.
  void make_kept_actions_the_kernels(Tracee& t, TaskState& state);
  void fill_queue(const FastPath& fast);
  // A queued write to ttdb's output, given back: its bytes, from where the
  // shim copied them, go out as a traced one's do.
  void emit_given_back(const trace::Event& e);
  bool queueable(const QueueFacts& e, const QueueFacts* following, const QueueEntry& entry, const FastPath& fast) const;
  // Whether the thread's shim may make the queued calls replay makes again
  // (version 8: it has a stop stub).
  bool shim_makes_calls() const;
  // Has the shim's free-run flag say whether the thread runs on without
  // syscall stops (it does while resumed by `how` to make a queued call),
  // and returns how to resume: `how`, or PTRACE_CONT.
  Resume set_free_run(Resume how);
  // Whether the program's next traced call is one replay emulates (skips,
  // giving its recorded result): run() resumes with PTRACE_SYSEMU then.
  bool next_call_emulated();
  // A stop elsewhere than the stop stub (a breakpoint, a watchpoint) ends
  // a free run too: the replayer's own injected syscalls may follow.
  void stop_free_run();
  // A stop at the shim's stop stub, where a free run ended: SIGTRAP put
  // back, and a call the shim made that returned otherwise reported.
  bool at_stop_stub(const WaitStatus& status);
  void end_free_run();
  // What a call the shim made in replay did that the replayer follows.
  void after_made_in_shim(const trace::Event& e);
  // The descriptor replay keeps open in the process for the file a view
  // the shim would map again maps (mapping_descriptor); -1: none.
  std::int64_t kept_mapping_fd(const trace::Event& e);
  // The acting process's kept descriptor of `file` (mapping_fds), or its end.
  std::vector<std::pair<std::int64_t, std::int64_t>>::iterator kept_descriptor(std::int64_t file);
  // Whether the event `ahead` writes memory a watchpoint watches.
  bool writes_watched(std::size_t ahead, const FastPath& fast);

  // Syscall handling (replay_syscall.cc).
  void check_entry(const trace::Event& e, const WaitStatus& first);
  void check_inputs(const trace::Event& e, const SyscallInfo* info);
  void emulate(const trace::Event& e, const Registers& entry_regs);
  void wait_in_sigsuspend(const trace::Event& e, const Registers& entry_regs, std::uint64_t mask);
  std::int64_t execute(const trace::Event& e);
  void replay_shm(const trace::Event& e, const Registers& entry_regs);
  void replay_mmap(const trace::Event& e, const Registers& entry_regs);
  // The code that was in [start, end) is gone (unmapped, or mapped over):
  // its rdtsc and syscall sites with it, as the recorder forgot them.
  void forget_code(std::uint64_t start, std::uint64_t end);
  // An mmap of a file shared, in format 6: from replay's copy of the file.
  void map_shared_file(const trace::Event& e, const Registers& entry_regs, const trace::FileIdentity& file);
  // How the program's call maps the file: mmap's arguments, or shmat's.
  struct SharedView {
    std::uint64_t length, prot, flags, offset;
  };
  void map_shared_view(const trace::Event& e, const Registers& entry_regs, const trace::FileIdentity& file,
                       const SharedView& view);
  // A private mmap of a file maps the file as recorded; false (nothing
  // done) when it cannot.
  bool map_recorded_file(const trace::Event& e, const Registers& entry_regs);
  // The mmap stopped at its entry maps `fd` instead, at the recorded place;
  // mmap's result.
  std::int64_t mmap_descriptor(const trace::Event& e, std::int64_t fd, const SharedView& view);
  // A descriptor of recorded file `file` in the process, for event e's mmap: one kept open, or opened now.
  std::int64_t mapping_descriptor(const trace::Event& e, std::int64_t file);
  // The bytes a memory write of `e` holds (its own, or a file's).
  ByteView written_bytes(const trace::Event& e, const trace::MemWrite& m, Bytes& owned);
  // Passes output on to the sink, where it went in the recorded stdout file.
  void emit_output(const trace::Event& e, ByteView bytes);
  // An lseek, ftruncate or fcntl(F_SETFL) on the recorded stdout file.
  void follow_output_file(const trace::Event& e);
  void after_syscall(const trace::Event& e);
  std::optional<std::uint64_t> wait_mask(const trace::Event& e, const SyscallInfo* info);
  // `at_exit`: the registers at the exit stop, when they are known without
  // reading them.
  void finish_syscall_exit(const trace::Event& e, const Registers& entry_regs, const Registers* at_exit = nullptr);
  void write_memory(const trace::Event& e);
  void leave_slow_tail(const trace::Event& e);

  // Resumes (passing any signal owed) and waits for the next stop.
  WaitStatus resume_and_wait(Resume how = Resume::syscall);
  // The stop was the program's arrival at one of the loader's xsavecs, which
  // replay runs itself (ttdb/tracer/nondet_insn.h): runs it. True when the
  // program should go on as `how` resumed it; false when the stop stands,
  // made what the instruction would have made (a single step's end, a
  // watched write, a fault). Not such a stop: false, and nothing done.
  bool run_loader_xsave(WaitStatus& status, Resume how);
  WaitStatus expect_syscall_exit(const trace::Event& e);
  // Ends the thread, and so its process, by a fatal signal, as the recording did.
  WaitStatus die_of(int sig);
  // The robust mutexes of every thread of process `leader`, which ends now.
  void release_process_robust_futexes(int leader);
  // Ends the acting thread alone, stopped at the entry of the syscall its
  // seccomp filter killed it in, with an exit in that call's place.
  WaitStatus end_thread_in_syscall(const trace::Event& e);
  void send_signal(int sig);
  void set_snapshot_trap(bool armed);
  // Before the acting thread runs on to `next`: it faults at rdtsc if
  // `next` is an rdtsc with no int3 on it, or the fault the program asked
  // for with PR_SET_TSC.
  void prepare_tsc(const trace::Event& next);
  // Event e's call lets code change with no syscall between: rdtsc faults
  // in each thread of its memory from now on.
  void trap_tsc_for_good(const trace::Event& e);
  RandPatcher& rand() { return state_.rand_of(state_.acting); }
  void watch_code_changes(const trace::Event& e);
  void pay_tsc_owed();

  trace::TraceReader reader_;
  EventStream events_;
  // fill_queue's list of what it queues, kept: 16384 entries, which a new
  // list for each refill mapped and faulted in anew (a tenth of a clock
  // loop's replay).
  std::vector<QueueEntry> queue_entries_;
  OutputSink& sink_;
  FileContents files_;
  std::int64_t event_count_;
  SharedFiles shared_files_;
  std::map<int, Tracee> tracees_;  // by recorded tid
  SessionState state_;
  std::uint8_t snapshot_saved_byte_ = 0;
  std::uint64_t snapshot_trap_at_ = 0;  // where the snapshot's int3 sits, 0 if none
  // The recording let rdtsc run, with int3 on the sites its scan found
  // (meta rdtsc_patched): replay does the same, rather than make rdtsc
  // fault in every thread, which costs two VM exits at each switch
  // between ttdb and the program.
  bool tsc_patched_ = false;
  bool exact_xsave_ = false;
};

}  // namespace ttdb
