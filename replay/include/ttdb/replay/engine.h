// The time-travel engine: a replay that can be moved forward and backward,
// stopped at breakpoints and watchpoints, and inspected. Front ends (the
// shell, the script runner, later a gdb server) drive it; it prints nothing.
//
// Positions. Without a branch counter, a point in time is named by what can
// be counted: the last event applied, then a list of motions, each "run until
// this happens N times" (the program arrives at an address, a single step, a
// watched location is written, the next event begins). Replay is
// deterministic, so the same motions from the same event always end in the
// same state. See docs/architecture.md.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ttdb/base/bytes.h"
#include "ttdb/replay/replay.h"
#include "ttdb/trace/event.h"
#include "ttdb/tracer/tracee.h"

namespace ttdb {

struct Tick {
  enum class Kind {
    code,         // the program arrives at `addr` (about to execute it)
    step,         // one instruction executes
    watch,        // the program writes [addr, addr + len)
    access,       // the program reads or writes [addr, addr + len)
    event_start,  // the next recorded event begins (its first stop)
  };
  Kind kind = Kind::code;
  std::uint64_t addr = 0;
  std::uint32_t len = 0;
  bool operator==(const Tick&) const = default;
};

struct Motion {
  Tick tick;
  std::uint64_t count = 0;
  bool operator==(const Motion&) const = default;
};

struct Position {
  std::int64_t event = 0;  // the last event applied; 1 is the exec (the program's first instruction)
  std::vector<Motion> motions;
  bool operator==(const Position&) const = default;
  // "event 12", "event 12 + 3 arrivals at 0x401136 + 2 steps"
  std::string describe() const;
};

struct EngineOptions {
  // Checkpoints the engine takes by itself; the oldest of crowded ones go first.
  std::size_t checkpoint_budget = 1024;
  // ...and while they hold more private memory than this (MiB).
  std::uint64_t checkpoint_memory_mib = 1024;
  // A checkpoint wherever coming back would otherwise replay longer than this.
  std::chrono::milliseconds checkpoint_every{20};
};

enum class Direction { forward, backward };

struct Stop {
  enum class Kind {
    none,        // nothing happened (already there)
    event,       // reached the requested event
    breakpoint,  // a breakpoint: `id`
    watchpoint,  // a watchpoint fired (a write that changed the value, a read, an access): `id`, old and new bytes
    step,        // a step or a run to a position finished
    signal,      // the program is about to receive a signal (the next event)
    start,       // went back to the beginning of the recording
    end,         // the end of the recording (the program exited, or it stops there)
    interrupted, // interrupt() was called
    exited,      // the thread a run_to() follows ended (`id`: its recorded tid) while others go on
    syscall,     // a catchpoint (`id`) caught a syscall: at its call, or `returned` from it
  };
  Stop() = default;
  explicit Stop(Kind k) : kind(k) {}
  Kind kind = Kind::none;
  int id = 0;
  Bytes old_value, new_value;
  int signal = 0;       // Kind::signal (with `id`, the catchpoint that caught it, if one did)
  long syscall = -1;    // Kind::syscall: its number
  bool returned = false;
};

struct Breakpoint {
  int id = 0;
  // Its locations: one, or several for a function the compiler inlined or
  // copied, or a line of code that several functions hold.
  std::vector<std::uint64_t> addrs;
  bool at(std::uint64_t addr) const { return std::find(addrs.begin(), addrs.end(), addr) != addrs.end(); }
  bool enabled = true;
  bool temporary = false;  // deleted once it stops the program
  std::uint64_t hits = 0;  // times it stopped the program
  // The program image its addresses were found in (Engine::image): another
  // program a process of the recording runs (after an exec) may hold other
  // code, or data, there; an int3 written in it would change what it does.
  // 0: every process. Elsewhere, the front end may find the same place in
  // the program there (Engine::set_relocator).
  std::int64_t image = 0;
};

// gdb's `catch syscall` and `catch signal`: a recorded event it accepts
// stops continue and reverse-continue (a syscall at its call and at its
// return, a signal at its arrival).
struct Catchpoint {
  int id = 0;
  bool enabled = true;
  std::uint64_t hits = 0;
  std::function<bool(const trace::Event&)> catches;
};

// What a watchpoint stops for. x86 debug registers break on writes, or on
// reads and writes alike: a read is an access that left the value as it was
// (as gdb tells reads from writes on such hardware).
enum class WatchKind { write, read, access };

struct Watchpoint {
  int id = 0;
  std::uint64_t addr = 0;
  std::uint32_t len = 0;
  bool enabled = true;
  std::uint64_t hits = 0;
  WatchKind kind = WatchKind::write;
  // The process whose memory it watches (its recorded pid; 0: a recording
  // of one process): another process's memory at the same address is
  // another object, which gdb does not watch either.
  int process = 0;
};

// Decides whether arriving at `addr` with these registers counts (the frame
// a line-step is in, say).
using ArrivalFilter = std::function<bool(std::uint64_t addr, const Registers& regs)>;

class EngineImpl;

class Engine {
 public:
  Engine(const std::string& trace_path, OutputSink& sink, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // --- Where it stands
  const Position& position() const;
  std::int64_t event() const;          // the last event applied ($event)
  std::int64_t event_count() const;    // events in the recording
  // Set once the program has ended (the position is then the end).
  std::optional<WaitStatus> exit_status() const;
  // Every file the recording mapped, where it mapped it (replay maps their
  // recorded contents as anonymous memory, so /proc does not name them).
  // Replay is deterministic: a library loaded later loads at this address,
  // so breakpoints in it can be set before it is loaded.
  const std::vector<trace::FileMapping>& file_mappings() const;
  // The program image of the process looked at (the number of the exec
  // event that started it; 0 for a recording of one process), and the file
  // mappings that image makes over the whole recording.
  std::int64_t image();
  const std::vector<trace::FileMapping>& image_mappings();
  // Makes the process looked at live from this position on: it runs on by
  // itself, as if it had never been recorded (ReplaySession::go_live).
  // Returns its pid; the engine has no program to show after it.
  GoLiveResult go_live(const GoLiveOptions& options);
  // Where a debugger reads the file the recording ran or mapped at `path`:
  // `path` itself, unless the file there is gone or changed since and the
  // trace keeps the recorded bytes; then a copy of those, under the same
  // name in a directory of replay's that lasts as long as the engine.
  std::string local_path(const std::string& path);
  // A recorded event by number.
  std::optional<trace::Event> recorded_event(std::int64_t id) const;

  // --- Looking at the program (breakpoints are hidden from memory reads)
  // (rip is the program's address also where the thread runs an
  // instruction of the program's that a syscall buffer patch moved.)
  Registers registers();
  // The x87, SSE and AVX state, in the XSAVE layout the kernel gives
  // (PTRACE_GETREGSET, NT_X86_XSTATE); empty when it cannot be read.
  Bytes xstate();
  std::optional<Bytes> read_memory(std::uint64_t addr, std::size_t size);
  pid_t pid();  // the tracee's own pid in this replay

  // --- Processes: those live at this position. The one looked at is the
  // one that moves next, until select_inferior() picks another (a motion
  // makes it the one that moves again).
  struct Inferior {
    int number;         // 1 for the program ttdb started, then in the order they started
    int pid;            // its pid in the recording
    pid_t replay_pid;   // the tracee's in this replay
    std::string exe;
    bool moves_next;
    bool selected;      // the one registers() and read_memory() look at
    int process;        // a thread's: its process's first thread's pid (its own for a process)
    int thread;         // its number in its process: 1 for the first thread, then in the order they
                        // started, never reused (the same at every position)
  };
  // The recording has more than one process (threads aside).
  bool several_processes();
  std::vector<Inferior> inferiors();
  void select_inferior(int number);  // throws Error for a number not live here
  void select_task(int pid);         // any live thread, by its recorded tid
  // A thread of the recording, live or not (by its recorded tid): its
  // inferior's number and first thread, and its own number there.
  struct TaskNumbers {
    int inferior = 0;
    int process = 0;
    int thread = 0;
  };
  TaskNumbers task_numbers(int tid);
  // The recorded tid of thread `thread` of inferior `inferior`, live here or not.
  std::optional<int> recorded_thread(int inferior, int thread);
  // Where in the program's own code `pc` stands: a process stopped inside
  // the syscall buffer's trampoline for a patched syscall is just past that
  // syscall (so that backtraces and symbols name the program's code).
  std::uint64_t code_address(std::uint64_t pc);

  // --- Breakpoints and watchpoints. `condition` is asked at each hit whether
  // it should stop the program (conditions, ignore counts): the engine is
  // stopped at the hit while it runs, and may be inspected.
  // The addresses are those of the program image the engine looks at
  // (image()): processes that run another program ignore them.
  int add_breakpoint(std::uint64_t addr, bool temporary = false);
  int add_breakpoint(std::vector<std::uint64_t> addrs, bool temporary = false);
  // Throws Error when no slot is left. It watches the memory of the process
  // the engine looks at.
  int add_watchpoint(std::uint64_t addr, std::uint32_t len, WatchKind kind = WatchKind::write);
  int add_catchpoint(std::function<bool(const trace::Event&)> catches);
  // gdb's `catch syscall`: a catchpoint on these syscalls (all when none).
  int add_syscall_catchpoint(std::set<std::int64_t> numbers);
  std::vector<Catchpoint> catchpoints() const;
  bool remove(int id);
  bool set_enabled(int id, bool enabled);
  std::vector<Breakpoint> breakpoints() const;
  std::vector<Watchpoint> watchpoints() const;
  void set_condition(std::function<bool(int id)> condition);
  // Where breakpoint `id` is in the program image the engine looks at
  // (image()), which is not the one it was set in (gdb sets a breakpoint
  // on a function or a line again in each program a process runs). Asked
  // once per breakpoint and image, while the engine stands in a process of
  // that image; none: the breakpoint is not in that program.
  void set_relocator(std::function<std::vector<std::uint64_t>(int id)> relocate);
  // gdb's `handle SIGNAL stop|nostop`: whether continue and reverse-continue
  // stop at the signal's arrival. By default, gdb's table (not SIGALRM,
  // SIGCHLD, SIGWINCH, SIGPROF, SIGVTALRM, SIGURG, SIGIO; the others).
  void set_signal_stop(int sig, bool stop);
  bool signal_stops(int sig) const;

  // --- Moving
  Stop resume(Direction direction);          // continue / reverse-continue
  Stop stepi(Direction direction);           // one instruction (or one event)
  Stop goto_event(std::int64_t event);       // $event == event afterwards
  Stop seek(const Position& position);       // back to any position reached before
  // Forward until the program arrives at one of `addrs` and `accepts` agrees
  // (finish, until, next, step), or a breakpoint or watchpoint stops it.
  // Only the arrivals of the thread looked at count, as gdb's steps are a
  // thread's: other threads and processes run the same code meanwhile. The
  // run ends when that thread does (Stop::Kind::exited).
  Stop run_to(const std::vector<std::uint64_t>& addrs, const ArrivalFilter& accepts, bool stop_at_breakpoints = true);
  // Backward to the last arrival of the thread looked at at one of `addrs`
  // that `accepts` agrees to, before now; to the start of the recording
  // when there is none.
  Stop reverse_to(const std::vector<std::uint64_t>& addrs, const ArrivalFilter& accepts);
  // Asks a running command to stop soon; safe from a signal handler.
  void interrupt();

  // --- Bookmarks (checkpoint / restart)
  int bookmark();
  std::optional<Position> bookmark_position(int id) const;
  std::vector<std::pair<int, Position>> bookmarks() const;
  bool forget_bookmark(int id);

  // --- Accounting
  std::size_t checkpoint_count() const;
  // Private memory the checkpoints hold (KiB), read from /proc.
  std::uint64_t checkpoint_memory_kib() const;

 private:
  std::unique_ptr<EngineImpl> impl_;
};

}  // namespace ttdb
