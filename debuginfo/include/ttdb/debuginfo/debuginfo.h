// What the program's own files say about it: symbols, functions, lines,
// variables and their types (libdw), and its stack's frames (libunwind).
// Modules are found from the replayed program's /proc/PID/maps, so shared
// libraries appear as the program loads them.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ttdb/base/bytes.h"
#include "ttdb/debuginfo/types.h"

struct user_regs_struct;

namespace ttdb {

struct Symbol {
  std::string name;
  std::uint64_t addr = 0;    // where the symbol starts
  std::uint64_t offset = 0;  // of the asked address from it
};

struct SourceLine {
  std::string file;  // as the compiler named it (usually absolute)
  int line = 0;
  std::uint64_t row_addr = 0;  // where the line-table row holding the address starts
  bool is_statement_start = false;
  // The row is a statement (is_stmt). gdb shows the address of a pc that
  // is not at the start of a statement's row.
  bool statement = true;
};

struct Function {
  std::string name;
  std::uint64_t low = 0, high = 0;  // [low, high)
  std::uint64_t body = 0;           // after the prologue: where `break NAME` stops
  bool has_lines = false;
};

// A frame of the stack. Registers use DWARF's x86-64 numbering (0 rax, 1 rdx,
// 2 rcx, 3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8-15 r8-r15, 16 rip).
struct Frame {
  int level = 0;
  std::uint64_t pc = 0;   // frame 0: the instruction; outer frames: the return address
  std::uint64_t cfa = 0;  // the canonical frame address, 0 when unknown
  std::array<std::uint64_t, 17> regs{};
  std::array<bool, 17> known{};
  // The pc is where the frame stands, not a return address: a frame a
  // signal interrupted, and the signal trampoline below a handler.
  bool exact_pc = false;
  // Code inlined into a function has a frame for each inlined call around
  // the pc, innermost first, as gdb shows them: the frame is `inline_depth`
  // calls out from the innermost, and `inlined` unless it is the function
  // itself. Such frames share the pc, registers and CFA of their function.
  int inline_depth = 0;
  bool inlined = false;
  // The level of the function's frame among the machine's frames (the
  // frames of inlined calls count with it).
  int machine_level = 0;
  // The address to look symbols and lines up by: inside the call for outer frames.
  std::uint64_t lookup_pc() const { return level == 0 || exact_pc ? pc : pc - 1; }
};

// A call the compiler inlined: where its code is, and where it was called.
struct InlinedCall {
  std::string name;
  std::uint64_t entry = 0;  // where the call begins: its first range's start, as gdb 13 has it
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;  // [low, high) each
  std::string call_file;
  int call_line = 0;
  // The same call, as two lookups at different pcs find it.
  std::uint64_t id = 0;
  bool operator==(const InlinedCall& other) const { return id == other.id; }
  bool contains(std::uint64_t pc) const;
};

struct Variable {
  std::string name;
  TypeRef type;
  bool is_argument = false;
  // implicit_pointer: a pointer the compiler did away with, to an object
  // it knows (DW_OP_implicit_pointer): gdb's "<synthetic pointer>".
  enum class Where { memory, register_, value, optimized_out, implicit_pointer } where = Where::optimized_out;
  std::uint64_t addr = 0;  // memory
  int regno = 0;           // register_ (DWARF number)
  Bytes value;             // value
  std::string decl_file;
  int decl_line = 0;
  // An argument's value when the function was entered, where the caller's
  // call-site information tells it (gdb's "n@entry").
  std::optional<std::uint64_t> entry_value;
};

struct Module {
  std::string name;  // the file's path
  std::uint64_t low = 0, high = 0;
  bool has_debug_info = false;
};

// Whether a function called `name` ("Account::deposit", "twice<long>") is
// the one a user asked for as `asked`: C++ names match by their last
// components, as in gdb ("deposit" is Account::deposit), and template
// arguments in either spelling ("twice<long int>").
bool names_function(const std::string& name, const std::string& asked);

class DebugInfo {
 public:
  DebugInfo();
  ~DebugInfo();
  DebugInfo(const DebugInfo&) = delete;
  DebugInfo& operator=(const DebugInfo&) = delete;

  // An ELF file mapped at `base` (its first byte) that /proc/PID/maps does
  // not name: replay maps libraries' recorded contents anonymously.
  struct KnownFile {
    std::string path;
    std::uint64_t base = 0;
    bool operator==(const KnownFile&) const = default;
  };
  // Reports the modules: what /proc/PID/maps names, and `known`. Once: the
  // first call decides.
  void refresh(pid_t pid, const std::vector<KnownFile>& known = {});
  bool modules_reported() const;
  std::vector<Module> modules() const;
  // The module holding `addr` (its has_debug_info is not looked up).
  std::optional<Module> module_at(std::uint64_t addr) const;

  std::optional<Symbol> symbol_at(std::uint64_t addr) const;
  std::optional<Function> function_at(std::uint64_t pc) const;
  // Functions by name, those with line information first; a function the
  // compiler inlined comes once for each call it inlined (its `body` is
  // where the inlined code begins).
  std::vector<Function> functions_named(const std::string& name) const;
  std::vector<std::string> function_names() const;  // for completion
  std::optional<SourceLine> line_at(std::uint64_t pc) const;
  // The language of the code at `pc`, as gdb names it ("c", "c++", "asm").
  std::optional<std::string> language_at(std::uint64_t pc) const;
  // The inlined calls around `pc`, innermost first.
  std::vector<InlinedCall> inlined_calls(std::uint64_t pc) const;
  // Every inlined call in the function that holds `pc`, at any depth.
  std::vector<InlinedCall> inlined_calls_in_function(std::uint64_t pc) const;
  // A frame's function (for an inlined frame, the inlined call's), and its
  // line (for a frame an inlined call is made from, the line of the call).
  std::optional<Function> frame_function(const Frame& frame) const;
  std::optional<SourceLine> frame_line(const Frame& frame) const;
  // Where a breakpoint on FILE:LINE goes: the first statement of that line,
  // or of the next line that has code, in each function it appears in.
  // `found` (if given) is told which line that was.
  std::vector<std::uint64_t> line_addresses(const std::string& file, int line, int* found = nullptr) const;
  // The starts of statements (is_stmt rows) in [low, high).
  std::vector<SourceLine> statement_starts(std::uint64_t low, std::uint64_t high) const;

  // Variables visible at a frame: its arguments, then its locals (innermost
  // block first). Outer frames' variables come out at the call's pc.
  // `caller`, the next frame out, lets values the compiler kept only at the
  // call (DW_OP_entry_value) be found.
  std::vector<Variable> arguments(const Frame& frame, const Frame* caller = nullptr) const;
  std::vector<Variable> locals(const Frame& frame, const Frame* caller = nullptr) const;
  // A variable by name: the frame's scopes, then the globals of every module.
  std::optional<Variable> find_variable(const std::string& name, const Frame* frame, const Frame* caller = nullptr) const;
  // The type a function returns; nullptr for void or unknown.
  TypeRef return_type(std::uint64_t pc) const;
  // The type of the function holding `pc`, with its parameters ("int (int)"); nullptr without DWARF.
  TypeRef function_type(std::uint64_t pc) const;
  // A struct, union, enum or typedef named in a cast ("struct point").
  TypeRef find_type(const std::string& name) const;

  // gdb's `info functions/variables/types REGEX`: what the debug
  // information declares whose name `matches` accepts, by file and line,
  // as C declares it ("static int square(int);", "struct point;").
  enum class DeclarationKind { function, variable, type };
  struct Declaration {
    std::string file;
    int line = 0;
    std::string name;
    std::string text;
  };
  std::vector<Declaration> declarations(DeclarationKind kind, const std::function<bool(const std::string&)>& matches) const;
  // The ELF symbols (functions or data) no debug information covers, by address.
  std::vector<Symbol> plain_symbols(bool functions, const std::function<bool(const std::string&)>& matches) const;

  // The stack of stopped tracee `pid`, innermost first, at most `limit` frames.
  std::vector<Frame> backtrace(pid_t pid, const user_regs_struct& regs, std::size_t limit) const;
  // The stack as gdb shows it: a frame for each inlined call, numbered anew.
  std::vector<Frame> with_inlined_frames(const std::vector<Frame>& stack) const;

  // A line of a source file, without its newline; nullopt when unreadable.
  std::optional<std::string> source_text(const std::string& file, int line) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ttdb
