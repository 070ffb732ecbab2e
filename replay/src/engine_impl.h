// The engine's insides, shared by engine.cc (forward motion, breakpoints,
// checkpoints) and engine_reverse.cc (backward motion).
#pragma once

#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <map>
#include <optional>
#include <tuple>

#include "checkpoints.h"
#include "session.h"
#include "ttdb/replay/engine.h"
#include "ttdb/tracer/arrival_counter.h"

namespace ttdb {

// The debug registers a watchpoint of `len` bytes at `addr` takes: aligned
// pieces of 8, 4, 2 or 1 bytes.
std::vector<std::pair<std::uint64_t, std::uint32_t>> watch_pieces(std::uint64_t addr, std::uint32_t len);

// How many single steps before a far stepped-to target a checkpoint is
// taken (see seek's steps).
constexpr std::uint64_t kStepsBeforeTarget = 16;

// Adds a motion at the end, merged with the last one when it counts the same thing.
void append_motion(Position& position, Motion motion);

// True when a single step's trap says it delivered a signal: the program
// stands at the handler's first instruction, with the registers it has
// when it arrives there running (engine_signals.cc).
bool stepped_into_handler(Tracee& t, const siginfo_t& info);

// Signals the program is stopped for, as gdb does by default: not the
// timers and notifications programs use routinely.
bool stops_the_program(const trace::Event* e);

// Thrown when interrupt() stops a run that is a part of a command (a seek, a
// backward search): the command then returns to where it started.
struct Interrupted {};

// What one resumption of the program's own code ended with.
struct RunOutcome {
  enum class Kind { arrival, stepped, watch, event, interrupted } kind = Kind::event;
  std::uint64_t addr = 0;  // arrival: where
  int watch_id = 0;        // watch: which watchpoint
  // Per counter asked for: the arrivals it counted before this outcome (for
  // an arrival at the counter's own address, before that one); nullopt
  // where the code could not hold one.
  std::vector<std::optional<std::uint64_t>> counted;
  static RunOutcome arrival_at(std::uint64_t addr) {
    RunOutcome out;
    out.kind = Kind::arrival;
    out.addr = addr;
    return out;
  }
};

// What a forward run is for. A run always stops at the end of the recording.
struct Goal {
  bool user_points = false;                 // stop at enabled breakpoints and watchpoints
  std::optional<std::int64_t> event;        // stop once this event is applied
  std::optional<Motion> motion;             // stop when this has happened `count` times
  std::vector<std::uint64_t> until_addrs;  // stop on arriving at one of these...
  ArrivalFilter until_accepts;             // ...when this agrees (no filter: always)...
  std::optional<int> until_task;           // ...and this task (recorded tid) arrives, if given
  // The program layout (EngineImpl::layout_of) the until_addrs are in: a
  // process of another program holds other code there, where no int3 of
  // the run's may go. None: the layout of the process the run begins in.
  std::optional<std::int64_t> until_layout;
  // Reverse searches: called at each stop-worthy hit, which then does not stop.
  std::function<void(const Position&, const Stop&)> observe;
  // Counts the arrivals at these addresses on the way (in the program, at
  // native speed, where their code can hold a counter), as a `motion` to
  // one from the run's start would, and tells `counted` as they add up
  // (nullopt: a counter that failed, its arrivals unknown). Not the
  // motion's own address.
  std::vector<std::uint64_t> count_at;
  std::function<void(std::uint64_t addr, std::optional<std::uint64_t> arrivals)> counted;
};

// The program's output, passed on the first time only: going back and
// replaying forward again does not print it twice.
class FirstTimeSink : public OutputSink {
 public:
  FirstTimeSink(OutputSink& inner, const EngineImpl& engine) : inner_(inner), engine_(engine) {}
  void write(int stream, ByteView bytes) override;
  void write_at(int stream, std::int64_t offset, std::int64_t position, ByteView bytes) override;
  void seek(int stream, std::int64_t position) override;
  void truncate(int stream, std::int64_t size) override;
  std::int64_t frontier = 0;  // the furthest event applied so far

 private:
  bool first_time() const;
  OutputSink& inner_;
  const EngineImpl& engine_;
};

class EngineImpl {
 public:
  EngineImpl(const std::string& trace_path, OutputSink& sink, EngineOptions options);

  // --- forward (engine.cc)
  Stop run(const Goal& goal);
  // A user's stepi: the instruction may set off a watchpoint, as a hardware
  // watchpoint fires on a single step (gdb steps over a breakpoint so).
  Stop user_step();
  // `armed`: watchpoints the step arms (a search backward looks for reads).
  Stop step_instruction(const std::vector<Watchpoint>& armed = {}, RunOutcome* stepped = nullptr);
  // Executes one instruction, or applies the next event if that is what
  // comes next, without recording a motion; true when an event was applied.
  bool advance_one(const std::vector<Watchpoint>& armed = {}, RunOutcome* stepped = nullptr);
  // One instruction of the program's, single-stepped with `armed` (the
  // jump back out of a trampoline is none: the step goes on through it).
  RunOutcome step_once(const std::vector<Watchpoint>& armed);
  // True when what comes next is an event rather than an instruction.
  bool next_is_event();
  Stop seek(Position target);
  void apply_pending();
  // `fast`: what the syscall buffer may give back without a stop (see
  // ReplaySession::run).
  // `counts`: arrivals to count in the program itself (engine_counting.cc).
  RunOutcome run_once(Resume how, const std::vector<std::uint64_t>& code, const std::vector<Watchpoint>& armed,
                      const FastPath& fast, const std::vector<ArrivalCounter::Where>& counts = {});
  // Events the syscall buffer gave back in-process moved the program on:
  // positions now count from the last of them.
  void events_passed();
  // The process or thread `inferior N` or `thread N` selected to look at
  // (its recorded tid), until the next motion; and a process's number, in
  // the order they started.
  std::optional<int> selected;
  int looked_at_task() const;
  // A watchpoint stop at a read, which stops after the read going either way.
  bool read_stop(const Stop& stop) const;
  // The `blocked` event where the call whose result is `result` began, if
  // others ran while it waited.
  std::optional<std::int64_t> blocked_entry_of(const trace::Event& result);
  // Back to where the history of `task` (looked at when at event `from`)
  // begins, which no backward search may pass: the recording's start, or
  // just after the spawn event that made it (a process or thread made later).
  Stop back_to_history_start(int task, std::int64_t from);
  // An arrival at one of goal.until_addrs that counts for `goal`.
  bool until_arrival(const Goal& goal, std::uint64_t addr, const Registers& regs);
  // A Stop::Kind::exited when the task goal.until_task follows has ended
  // while others go on.
  std::optional<Stop> followed_task_end(const Goal& goal);
  int inferior_number(int pid);
  // A thread's number in its process (1 for the first thread), in the order
  // they started: the same at every position.
  int thread_number(int tid);
  Tracee& looked_at();
  const TaskState& looked_at_state();
  const RandPatcher& looked_at_rand();
  // The id of a watchpoint armed only because a motion counts its triggers.
  static constexpr int kMotionWatch = 0;
  void boundary_reached();
  // Keeps a checkpoint here when coming back would otherwise cost more than
  // options.checkpoint_every of replay, or `now` (where coming back soon is
  // known to be likely), wherever the program can be forked.
  void maybe_checkpoint(Checkpoint::Kind kind, bool now = false);
  // Replay time spent since the program was last at a checkpoint's state.
  std::chrono::steady_clock::duration work_since_checkpoint() const;
  void checkpoint_reached();
  // Runs forward from `pos` to `target` (which pos reaches), with `base`'s
  // stops observed on the way.
  void advance_to(Position target, const Goal& base);
  void observe_after_step(const Goal& goal);
  void observe_watch_changes(const Goal& goal);
  // The enabled watchpoints whose value differs from the last one seen (a
  // syscall's or a single step's write sets off no debug register), as
  // stops their conditions agree to; the values seen are updated.
  std::vector<Stop> watch_changes();
  // Whether a debug register trigger of `w` stops the program: a write that
  // changed the value, a read (an access that did not), any access. A Stop
  // of kind none when it does not.
  Stop watch_trigger(const Watchpoint& w);
  void note_watched_values();
  // The enabled read and access watchpoints: steps arm these, as values
  // compared after a step cannot show a read.
  std::vector<Watchpoint> access_watches() const;
  // Counting arrivals and triggers anew from `pos`.
  void start_segment();
  void observe_here(const Position& target, const Goal& goal);
  // After an interruption: back to `pos`, which the program ran past uncounted.
  void resync();
  // After a command failed: back to where it began, not left where the
  // failure found the program (a state no position may name).
  void back_after_failure(const Position& start);
  void append(Motion motion);
  // Where the current run stands after `motion` from its start (seg_base).
  Position in_segment(Motion motion) const;
  bool at_armed_address(const std::vector<std::uint64_t>& code);
  // Where in the program's code the thread stands (rip, but for a moved instruction's copy).
  std::uint64_t program_pc();
  std::vector<std::uint64_t> user_code_points();
  // What a run arms where it stands: the breakpoints of the program the
  // acting process runs, the watchpoints of that process, and the goal's own
  // addresses, which are the program's the run begins in (or the command's
  // task's): in a process of another program they are other code, or data.
  // Armed again when another process acts.
  struct Arming {
    std::vector<std::uint64_t> code;
    std::vector<Watchpoint> watches;
    std::vector<std::uint64_t> own;                // the goal's motion and counted addresses
    std::int64_t home = 0, until_home = 0;         // layouts (layout_of) they belong to
    int home_process = 0;
    std::optional<std::int64_t> layout;            // what `code` is for
    std::optional<int> process;                    // what `watches` are for
  };
  Arming arming_for(const Goal& goal);
  void arm_here(Arming& a, const Goal& goal);
  // Enabled, and at `addr` in the acting thread's program.
  bool breakpoint_at(const Breakpoint& bp, std::uint64_t addr);
  // The process (recorded pid) thread `tid` belongs to.
  int process_of_task(int tid) const;
  // `w` watches the acting thread's process (Watchpoint::process).
  bool watches_here(const Watchpoint& w) const;
  // The enabled watchpoints of the acting thread's process.
  std::vector<Watchpoint> watches_armed_here() const;
  std::optional<Bytes> watched_value(const Watchpoint& w);

  // --- counting arrivals in the program (engine_counting.cc)
  // Counters for one run: one per address, or the one whose moved code
  // holds the address and always runs it (its count is then that one's), or
  // neither where the code cannot hold one. `code`: the int3s the run
  // inserts besides, which they must not move.
  struct Counters {
    std::vector<std::optional<ArrivalCounter>> own;
    std::vector<std::optional<std::size_t>> same_as;
    bool any() const { return std::any_of(own.begin(), own.end(), [](const auto& c) { return c.has_value(); }); }
  };
  Counters install_counters(const std::vector<ArrivalCounter::Where>& where, const std::vector<std::uint64_t>& code);
  // After the run: takes the counters out, with what they counted, and puts
  // a program stopped inside a trampoline back in its own code. True when
  // the stop was a counter's trap: `out` is then that arrival.
  bool leave_counters(const Counters& counters, const WaitStatus& status, RunOutcome& out);
  // What run() counts in the program for `goal` from here: the motion's
  // address first (a count that traps), if it is worth a counter, then
  // `in_program`.
  std::vector<ArrivalCounter::Where> counting_for(const Goal& goal, std::uint64_t goal_count,
                                                  const std::vector<std::uint64_t>& in_program);
  // The program stands inside the code a counter at `where` would move.
  bool stands_inside(const ArrivalCounter::Where& where);
  // Moves close before `target` (whose last motion happens once more from
  // here) by counting arrivals at one of `seen`'s addresses on the way to
  // it: the position after the last of them. False when none can count.
  bool approach(const Position& target, const std::map<std::uint64_t, std::uint64_t>& seen);
  // The last arrival at one of `observing`'s addresses between `from` (where
  // the program stands) and `end`, or at `end` itself where that is before
  // the search's `target`, found by counting them in the program rather
  // than stopping at each: nullopt when counting cannot tell (the caller
  // then looks at each arrival), an empty answer when there is none.
  std::optional<std::optional<std::pair<Position, Stop>>> last_arrival_counted(const Position& from, const Position& end,
                                                                               const Position& target,
                                                                               const Goal& observing);

  // --- signals (engine_signals.cc)
  // The next event, a signal that stops the program, arrives: the stop, or
  // for a backward search, a hit it observes (and nothing: the run goes on).
  std::optional<Stop> signal_arrival(const Goal& goal);
  // Stopped at a signal's arrival (the next event, not applied yet).
  bool at_signal_arrival();
  // Event `id` is a signal queued at the syscall boundary before it.
  bool boundary_signal(std::int64_t id);
  // Event `id` is a signal's, of any delivery.
  bool signal_event(std::int64_t id);
  // The next event is such a signal (its first stop maybe pending).
  bool next_is_boundary_signal();
  // A signal event applied is still to be delivered: the program resumes into its handler.
  bool delivering();
  // At an event boundary, with such a signal next; one that stops the program.
  bool signal_next_at_boundary();
  bool stopping_signal_next();
  // From there, to its arrival: a stop, as continue's.
  Stop to_signal_arrival();
  // What a single step does first, when a signal comes before the next
  // instruction: a stop at its arrival, or its delivery (nothing: the step
  // goes on into the handler).
  std::optional<Stop> signal_before_step();
  // The position a step back from the handler's entry lands on, for a
  // position just after a signal event: where the step forward began.
  Position before_delivery(Position p);
  // The program stands on an armed address just after an event: counts the
  // arrival there. True when it is the one `goal`'s motion counts to.
  bool arrival_at_boundary(const Goal& goal, std::uint64_t& goal_count);
  // `target` is the first arrival where the program stands, just after an event.
  bool arrival_at_event_end(const Position& target);

  // --- backward (engine_reverse.cc)
  Stop reverse_continue();
  // What `goal` would report where the program stands, if anything.
  std::optional<Stop> hit_here(const Goal& goal);
  // The same for wherever the program stands, however it got there.
  std::optional<Stop> hit_at_pc(const Goal& goal);
  Stop reverse_stepi();
  Stop reverse_to(const std::vector<std::uint64_t>& addrs, const ArrivalFilter& accepts, int task);
  // The position one step before `target`: stepi from it lands on `target`.
  std::optional<Position> previous_instruction(Position target);  // a copy: seeking moves pos
  std::optional<Position> position_before(Position target);  // the same, but for signals
  // The last stop-worthy hit of `observing` before `target`.
  std::optional<std::pair<Position, Stop>> last_hit_before(Position target, const Goal& observing);

  // Runs one user command: its replay time counts as work, and where it
  // stops may become a checkpoint.
  template <class F>
  Stop command(F&& body) {
    busy = true;
    selected.reset();  // a motion shows the process that moves
    work_mark = std::chrono::steady_clock::now();
    struct Idle {
      EngineImpl& e;
      ~Idle() {
        e.work_banked += std::chrono::steady_clock::now() - e.work_mark;
        e.busy = false;
      }
    } idle{*this};
    Position start = pos;
    Stop stop;
    try {
      stop = body();
    } catch (const Interrupted&) {
      interrupt_requested = false;
      pending_first.reset();
      pos = Position{-1, {}};  // matches nothing: seek() restores a checkpoint
      seek(start);
      stop = Stop{Stop::Kind::interrupted};
    } catch (const Error&) {
      back_after_failure(start);
      throw;
    }
    maybe_checkpoint(Checkpoint::Kind::stop);
    return stop;
  }

  FirstTimeSink output;
  ReplaySession session;
  EngineOptions options;
  Position pos;
  std::optional<WaitStatus> pending_first;  // stopped at the next event's first stop
  CheckpointSet checkpoints;
  std::map<int, Breakpoint> breakpoints;
  std::map<int, Watchpoint> watchpoints;
  std::map<int, Catchpoint> catchpoints;
  std::map<int, Bytes> watch_values;  // the last value seen, per watchpoint
  int next_id = 1;
  std::optional<std::vector<trace::FileMapping>> mappings;  // read on first use
  std::optional<std::map<std::string, std::int64_t>> trace_only_files;  // path -> file id, found on first use
  // The processes and threads of a recording of several, found by one pass
  // over it on first use: their numbers, in the order they started, and the
  // processes' program images (a process's is its last exec, inherited
  // through fork, named by that event's number).
  struct Images {
    std::map<int, int> numbers;                                                    // pid -> inferior number
    std::map<int, int> thread_numbers;                                             // tid -> its number in its process
    std::map<int, int> leaders;                                                    // a thread's tid -> its process's first
    std::map<int, std::vector<std::pair<std::int64_t, std::int64_t>>> of_process;  // pid -> (from event, image)
    std::map<std::int64_t, std::vector<trace::FileMapping>> mappings;             // image -> its file mappings
    std::map<int, std::vector<std::int64_t>> births;                              // tid -> the spawn events that made it
  };
  std::optional<Images> images;
  std::optional<bool> several_tasks_;  // the recording's processes and threads, read on first use
  bool several_tasks();
  bool several_processes();
  const Images& program_images();
  // The program image process (or thread) `tid` runs at this event (0:
  // the recording runs one program).
  std::int64_t image_of_task(int tid);
  // Where breakpoint `bp` is in the program the acting thread runs
  // (Breakpoint::image; found again by `relocate` in another program).
  const std::vector<std::uint64_t>& addresses_here(const Breakpoint& bp);
  std::function<std::vector<std::uint64_t>(int)> relocate;
  std::map<std::pair<int, std::int64_t>, std::vector<std::uint64_t>> relocated;  // (id, layout) -> addresses
  // The first image that maps the same files at the same places over the
  // recording as `image` does (a shell's 200 runs of one program are one
  // layout): a breakpoint's addresses hold in all of them.
  std::int64_t layout_of(std::int64_t image);
  // The file mappings image `image` makes over the recording.
  const std::vector<trace::FileMapping>& mappings_of(std::int64_t image);
  std::map<std::int64_t, std::int64_t> layouts;
  int next_bookmark = 1;
  std::function<bool(int)> condition;
  std::map<int, bool> signal_stops;  // `handle`'s choices over stops_the_program's table
  // Whether continue stops at this event, a signal's arrival: the user's choice, else gdb's table.
  bool handle_stops_at(const trace::Event* e) const;
  // The enabled catchpoint that catches this event, if one does (0: none).
  int catchpoint_for(const trace::Event* e) const;
  bool catching() const;
  // A signal `handle` stops at, or an event a catchpoint catches.
  bool user_stops_at(const trace::Event* e) const { return handle_stops_at(e) || catchpoint_for(e); }
  // The stop a caught syscall's return makes, if the event just applied is one.
  std::optional<Stop> caught_return(std::int64_t event);
  std::atomic<bool> interrupt_requested{false};
  std::atomic<pid_t> running{0};  // the program, while it runs its own code
  std::atomic<bool> interrupt_sent{false};  // interrupt() stopped `running`
  // Replay work since the last checkpoint: banked from earlier commands, and
  // the current command's since `work_mark` while `busy`.
  std::chrono::steady_clock::duration work_banked{};
  std::chrono::steady_clock::time_point work_mark;
  bool busy = false;
  // The current forward run's counters: arrivals and triggers since `seg_base`.
  Position seg_base;
  std::map<std::uint64_t, std::uint64_t> seg_arrivals;
  std::map<std::tuple<bool, std::uint64_t, std::uint32_t>, std::uint64_t> seg_triggers;  // by (access, address, length)
};

// The tick a watchpoint's debug register counts: writes, or accesses (read
// and access watchpoints arm the same register bits).
Tick watch_tick(const Watchpoint& w);
bool is_watch_tick(const Tick& tick);
// The watchpoint a motion counting `tick` arms, whatever the user's are.
Watchpoint motion_watch(const Tick& tick);

}  // namespace ttdb
