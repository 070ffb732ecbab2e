// The replay shell: gdb's commands over the time-travel engine. The same
// object serves the interactive prompt and scripts (-x, -ex).
#pragma once

#include <capstone/capstone.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "ttdb/debugger/expr.h"
#include "ttdb/debugger/motions.h"
#include "ttdb/debugger/program_images.h"
#include "ttdb/debuginfo/debuginfo.h"
#include "ttdb/replay/engine.h"

namespace ttdb {

class ShellContext;

// Waits for the process go-live let run, gives ttdb the terminal back, and
// returns its status as a shell reports it (128+N for signal N).
int wait_for_live(int pid);
// Makes ttdb's process group the terminal's foreground again, if it is not.
void take_terminal_back();

struct AssertOutcome {
  std::string expression;
  std::string message;
  bool passed = false;
  std::string value;     // the expression's value, as print shows it
  std::int64_t event = 0;
  std::string where;     // "accumulate at debug_loops.c:22"
  double seconds = 0;
  // A comparison's two sides and their values ("n", "10"), when it failed.
  std::vector<std::pair<std::string, std::string>> operands;
};

class Shell {
 public:
  Shell(Engine& engine, std::ostream& out, std::ostream& err);
  ~Shell();
  Shell(const Shell&) = delete;
  Shell& operator=(const Shell&) = delete;

  // Says where the program stands, as after any stop.
  void announce();
  // Runs one command line. False when it failed (the message is printed).
  bool execute(const std::string& line);
  bool quit_requested() const { return quit_; }
  // The process go-live let run on by itself, if it did.
  std::optional<int> live_pid() const { return live_pid_; }
  // go-live --record: the live process's exit status, once it has ended.
  std::optional<int> live_status() const { return live_status_; }
  bool inside_block() const { return block_.has_value(); }  // lines up to an `end` still to come

  const std::vector<AssertOutcome>& asserts() const { return asserts_; }
  // Why the last command that failed failed, as the shell said it.
  const std::string& last_error() const { return last_error_; }
  // Names for tab completion: commands at the start of a line, else symbols.
  std::vector<std::string> complete(const std::string& line_so_far, const std::string& word);
  // From a signal handler: asks the running command to stop soon.
  void interrupt() { engine_.interrupt(); }

 private:
  friend class ShellContext;
  struct Command;
  struct BreakInfo {
    std::string what;  // "in square at debug_loops.c:17", the watched expression
    std::string condition;
    bool watch = false;
    TypeRef watch_type;
    int thread = 0;  // `break ... thread N`: only this thread's (recorded tid) hits stop
    std::string thread_id;  // ...which the user called this
    int ignore = 0;         // `ignore N COUNT`: stops still to pass over
    // A catchpoint's words: `syscall "write" ` in `info breakpoints`, and
    // what a stop at an exception breakpoint says it caught.
    bool catchpoint = false;
    std::string caught;  // "exception thrown"
    std::vector<std::string> commands;  // `commands N ... end`: run after each stop it makes
    // A breakpoint's locations, when it has several: gdb numbers them N.1, N.2...
    std::vector<std::uint64_t> locations;
    std::string function;  // `break FUNCTION`: its name
  };
  // "in square at inl.c:7": the function (an inlined one by its own name) and line at `addr`.
  std::string location_text(std::uint64_t addr);
  // "n=n@entry=20, k=3": a frame's arguments as frame lines show them.
  std::string arguments_text(const Frame& f);
  void cmd_info_frame();
  // Asks the engine, at each hit, whether the hit's thread and condition count.
  void install_condition();
  // Where breakpoint N is found again in other programs (the relocator the
  // constructor gives the engine).
  std::map<int, std::string> relocatable_;

  void dispatch(const std::string& name, const std::string& args);

  // Command lists and user commands (shell_scripts.cc). A `commands`,
  // `define` or `document` block takes the lines that follow, up to its
  // `end`, instead of running them.
  struct Block {
    enum class Kind { commands, define, document, control } kind;
    std::vector<int> breakpoints;  // commands: whose list it is
    std::string name;              // define, document: the user command's
    std::vector<std::string> lines;
    int depth = 1;  // blocks inside it, and itself
  };
  void collect(const std::string& line);
  void cmd_commands(const std::string& args);
  void cmd_define(const std::string& args, Block::Kind kind);
  void cmd_source(const std::string& args);
  void run_user_command(const std::string& name, const std::string& args);
  void cmd_control(const std::string& keyword, const std::string& args);  // if, while: a block run when it ends
  // Runs script lines with if/else/while/end, loop_break and loop_continue;
  // $argc and $argN stand for `args`. In a breakpoint's list (`list`), a
  // command that moves the program ends the whole list.
  void run_lines(const std::vector<std::string>& lines, const std::vector<std::string>& args, bool list);
  void run_range(const std::vector<std::string>& lines, std::size_t from, std::size_t to, const std::vector<std::string>& args,
                 bool list);
  bool list_moved_ = false;
  // Runs the command lists of the breakpoints the last stop came from.
  void run_breakpoint_commands();
  std::string command_rows(int id);  // a breakpoint's command list as `info breakpoints` shows it
  std::optional<Block> block_;
  std::map<std::string, std::vector<std::string>> user_commands_;
  std::map<std::string, std::string> user_help_;
  std::vector<int> hit_with_commands_;  // breakpoints whose lists are still to run
  bool running_commands_ = false;
  int source_depth_ = 0;
  const Command* find_command(const std::string& name) const;
  bool is_builtin(const std::string& name) const;  // a command's own name or alias, not a prefix

  // Where the program stands, for people.
  // `hidden_inlined`: how many inlined calls stay hidden here (a step
  // into one that begins here changes only that); -1 works it out anew.
  void print_stop(const Stop& stop, int hidden_inlined = -1);
  void print_location(bool with_source);
  std::string frame_summary(const Frame& frame, bool with_pc);
  std::string short_location();
  void moved();  // forget what described the old position
  const std::vector<Frame>& frames();
  const Frame& frame();
  // The frame that called `f`, when the stack was unwound that far.
  const Frame* caller_of(const Frame& f);
  void print_locals_of(const Frame& f, const std::string& indent);
  // A line a "list" argument names: LINE (in the listed file), FILE:LINE, FUNCTION.
  std::pair<std::string, int> source_position(const std::string& where);
  void print_variables(const Frame& f, const std::vector<Variable>& vars, const char* none, const std::string& indent);
  bool ensure_live();
  // Throws unless the program is there to look at (not past its end).
  void require_live();
  void refresh_modules();

  // `line_for` (if given) is told the line a FILE:LINE location is for,
  // which optimized code may start at an address of another line.
  std::vector<std::uint64_t> resolve_location(const std::string& spec, std::string& description,
                                              std::optional<int>* line_for = nullptr);

  // Commands.
  void cmd_continue(const std::string& args, Direction direction);
  void cmd_step(const std::string& args, bool into, Direction direction);
  void cmd_stepi(const std::string& args, bool over, Direction direction);
  void cmd_finish(Direction direction);
  void cmd_until(const std::string& args);
  void cmd_run();
  void cmd_advance(const std::string& args);
  void cmd_ptype(const std::string& args, bool members);
  TypeRef type_of_expression(const std::string& expr);
  void cmd_start();
  void cmd_break(const std::string& args, bool temporary);
  void cmd_watch(const std::string& args, WatchKind kind);
  // gdb's catchpoints (shell_catch.cc).
  void cmd_catch(const std::string& args);
  void catch_syscalls(const std::vector<std::string>& names);
  void catch_signals(const std::vector<std::string>& names);
  void catch_exceptions(const std::string& kind);
  // A catchpoint made: "Catchpoint N (TITLE)", and `what` for info breakpoints.
  void note_catchpoint(int id, const std::string& title, const std::string& what, const std::string& caught = "");
  // "Catchpoint 1 (call to syscall write), " for a stop a catchpoint made; empty for others.
  std::string caught_title(const Stop& stop);
  std::string watchpoint_title(int id) const;  // "Hardware read watchpoint 2"
  void cmd_delete(const std::string& args);
  void cmd_enable(const std::string& args, bool enabled);
  void cmd_condition(const std::string& args);
  void cmd_info(const std::string& args);
  void cmd_info_breakpoints();
  // info functions/variables/types [REGEX] (shell_symbols.cc).
  void cmd_info_declared(DebugInfo::DeclarationKind kind, const std::string& regex);
  void cmd_info_registers(const std::string& args);
  void cmd_info_variables(bool arguments);
  void ptype_class(const Type& type);
  void cmd_set(const std::string& args);
  void cmd_when();
  void cmd_go_live(const std::string& args);
  void cmd_info_record();
  void cmd_ignore(const std::string& args);
  void cmd_printf(const std::string& args);
  void cmd_handle(const std::string& args);
  void cmd_info_signals(const std::string& args);
  // gdb's line for a signal: "Program received signal SIGUSR1, User defined signal 1."
  static std::string received_signal(int sig);
  // A signal stop `handle` asked to print and pass over (which it prints).
  bool passed_signal(const Stop& stop);
  // `handle`'s choices, stop and print, per signal (gdb's table for the others).
  std::map<int, std::pair<bool, bool>> handling_;
  std::pair<bool, bool> handling_of(int sig);
  void print_signal_table(const std::vector<int>& signals);
  // A stop at a breakpoint whose ignore count is not used up (and uses one).
  bool ignored(const Stop& stop);
  void cmd_info_sharedlibrary();
  void cmd_info_checkpoints();
  void cmd_info_inferiors();
  void cmd_inferior(const std::string& args);
  void cmd_info_threads();
  void cmd_thread(const std::string& args);
  // The live threads of the process looked at, in the order they started.
  std::vector<Engine::Inferior> threads_here();
  // gdb's thread id: "N" in the process looked at, "I.N" in inferior I, as
  // (inferior, thread number).
  std::pair<int, int> resolve_thread_id(const std::string& id);
  // The live thread an id names; throws Error when there is none.
  Engine::Inferior thread_named(const std::string& id);
  // The thread an id names over the whole recording, live here or not: its
  // recorded tid and its id as shown; throws Error when there is none.
  std::pair<int, std::string> recorded_thread(const std::string& id);
  // A thread's id as the shell shows it (gdb's: "N", or "I.N" with several processes).
  std::string thread_id(const Engine::Inferior& thread);
  // Says so when the process looked at is not the one shown last.
  void note_process_switch();
  // "[Inferior 2 (process 11349) exited normally]", as gdb says when the
  // thread a step followed ends (the event just applied is its end).
  std::string describe_exit(int tid);
  void cmd_goto(const std::string& args);
  void cmd_events(const std::string& args);
  void cmd_checkpoint();
  void cmd_restart(const std::string& args);
  void cmd_print(const std::string& args, bool record);
  void cmd_x(const std::string& args);
  void cmd_backtrace(const std::string& args);
  void cmd_frame(const std::string& args, int relative);
  void cmd_list(const std::string& args);
  void cmd_disassemble(const std::string& args);
  void cmd_help(const std::string& args);
  void cmd_assert(const std::string& args);
  void cmd_echo(const std::string& args);
  void cmd_display(const std::string& args);
  void cmd_undisplay(const std::string& args);
  void show_displays();

  std::string disassemble_one(std::uint64_t addr, std::size_t* length, bool mark_current);
  // One instruction's text as gdb shows it (shell_disassemble.cc).
  std::string instruction_text(const cs_insn& insn);

  Engine& engine_;
  std::ostream& out_;
  std::ostream& err_;
  ProgramImages images_;
  Motions motions_;
  DebugInfo& debug() { return images_.current(); }
  std::unique_ptr<ShellContext> context_;
  std::vector<Command> commands_;
  std::map<int, BreakInfo> break_info_;
  std::vector<Value> values_;  // printed values, for $N
  std::optional<Value> last_examined_;  // $_: the last address x examined
  int last_breakpoint_ = 0;              // $bpnum
  int list_size_ = 10;                   // set listsize
  std::map<std::string, Value> convenience_;  // set $NAME = EXPR
  std::string last_error_;
  std::optional<std::vector<Frame>> frames_;
  // As gdb: the frames of inlined calls that begin exactly where the
  // program stands are hidden (unless a breakpoint on that function stopped
  // it there); the stop shows the line of the call, and `step` enters the
  // call without moving. -1: not worked out yet for this position.
  int hidden_inlined_ = -1;
  // The function of the breakpoint that stopped the program ("*": a line's or an address's).
  std::string stopped_in_function_;
  std::size_t hidden_inlined();
  // The thread the last stop showed, and its process (recorded tids): the
  // thread may end while the process goes on.
  struct Shown {
    int tid = 0;
    int process = 0;
  };
  std::optional<Shown> shown_;
  int selected_frame_ = 0;
  std::string last_command_;
  std::string list_file_;
  int list_line_ = 0;
  std::uint64_t next_x_ = 0;
  char last_x_format_ = 'x';
  std::vector<AssertOutcome> asserts_;
  struct Display {
    int id = 0;
    char format = 0;
    std::string expression;
  };
  std::vector<Display> displays_;
  int next_display_ = 1;
  bool quit_ = false;
  std::optional<int> live_pid_;
  std::optional<int> live_status_;
};

}  // namespace ttdb
