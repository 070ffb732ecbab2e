// The shell's command syntax, apart from what the commands do: splitting a
// line into a command and its arguments, locations, format letters, numbers,
// thread ids. Nothing here needs a program to look at, so all of it can be
// fuzzed (tests/fuzz/fuzz_shell.cc). Bad input throws ttdb::Error with one
// sentence saying what was wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ttdb {

std::string trim(const std::string& s);
std::string basename_of(const std::string& path);
std::vector<std::string> words(const std::string& s);
// A number the user typed, one an int holds; `what` names it in the error.
int parse_number(const std::string& text, const char* what);
// What follows `word` (the first occurrence of it in `args`), trimmed.
std::string after_word(const std::string& args, const std::string& word);

// A line as the shell splits it: "x/4x &v" is {"x", "/4x &v"}, "break f" is {"break", "f"}.
struct CommandLine {
  std::string name;
  std::string args;
};
// nullopt for a blank line or a comment.
std::optional<CommandLine> split_command(const std::string& line);

// print[/FMT] EXPR's parts: the format letter (0 for none, else one of
// `letters`) and the expression.
std::pair<char, std::string> split_format(const std::string& args, const char* letters);

// x[/NFU] [ADDRESS]: the repeat count, the format letter (`last_format` when
// none is given: gdb remembers it), the unit size letter (0 for the format's
// own) and the address expression ("" to go on from the last x).
struct ExamineSpec {
  std::int64_t count = 1;
  char format = 'x';
  char size = 0;
  std::string expr;
};
ExamineSpec parse_examine(const std::string& args, char last_format);

// break LOCATION [thread ID] [if CONDITION].
struct BreakSpec {
  std::string location;
  std::string condition;
  std::string thread;  // "" for every thread; else "N" or "I.N"
};
BreakSpec parse_break(const std::string& args);

// A location: "" (here), *ADDRESS, LINE, FILE:LINE, :LINE or FUNCTION.
struct LocationSpec {
  enum class Kind { here, address, line, function };
  Kind kind = Kind::here;
  std::string text;  // address: the expression; function: the name; line: the file ("" for the default)
  int line = 0;
  bool listed_file = false;  // a bare LINE: in the file `list` showed last
};
LocationSpec parse_location(const std::string& spec);

// gdb's thread id: "N" (thread N of the process looked at: no inferior) or "I.N".
struct ThreadId {
  std::optional<int> inferior;
  int number = 0;
};
ThreadId parse_thread_id(const std::string& id);

// assert EXPR ["MESSAGE"]: the expression and the message ("" for none).
std::pair<std::string, std::string> split_assert(const std::string& args);
// The two sides of an expression whose outermost operator compares (==,
// !=, <, <=, >, >=), outside parentheses, brackets and quotes.
std::optional<std::pair<std::string, std::string>> comparison_sides(const std::string& expr);
// echo TEXT, with \n and \t (and \C for C) undone.
std::string echo_text(const std::string& args);

// printf "FORMAT", EXPR...: the format with its escapes undone, split into
// literal text and conversions ("%5ld"), and the argument expressions.
struct PrintfSpec {
  struct Piece {
    std::string text;        // literal text, or the conversion as written
    char conversion = 0;     // 0 for literal text; else d i u x X o c s f g e p
  };
  std::vector<Piece> pieces;
  std::vector<std::string> args;
};
PrintfSpec parse_printf(const std::string& args);
// watch [-l | -location] EXPR: the expression.
std::string watch_expression(const std::string& args);
// goto [event] N: the expression for N.
std::string goto_target(const std::string& args);
// condition N [EXPR]: the breakpoint number and the condition ("" removes it).
std::pair<int, std::string> parse_condition(const std::string& args);

}  // namespace ttdb
