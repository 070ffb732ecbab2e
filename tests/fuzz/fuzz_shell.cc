// Fuzzes the shell's command syntax (ui/src/shell_parse.h): each line of
// the input is split into a command and its arguments, and the arguments go
// through every parser a command uses (locations, break's `thread N` and
// `if COND`, x/NFU and print/F formats, thread ids, numbers...). Any input
// must parse or be refused with ttdb::Error: never a crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "shell_parse.h"
#include "ttdb/base/error.h"

namespace {

template <class F>
void quietly(F&& parse) {
  try {
    parse();
  } catch (const ttdb::Error&) {
  }
}

void parse_arguments(const std::string& args) {
  quietly([&] { (void)ttdb::split_format(args, "xduotcaf"); });
  quietly([&] { (void)ttdb::parse_examine(args, 'x'); });
  quietly([&] { (void)ttdb::parse_examine(args, 's'); });
  quietly([&] {
    ttdb::BreakSpec spec = ttdb::parse_break(args);
    if (!spec.thread.empty()) (void)ttdb::parse_thread_id(spec.thread);
    (void)ttdb::parse_location(spec.location);
  });
  quietly([&] { (void)ttdb::parse_location(args); });
  quietly([&] { (void)ttdb::parse_thread_id(args); });
  quietly([&] { (void)ttdb::split_assert(args); });
  quietly([&] { (void)ttdb::echo_text(args); });
  quietly([&] { (void)ttdb::watch_expression(args); });
  quietly([&] { (void)ttdb::goto_target(args); });
  quietly([&] { (void)ttdb::parse_condition(args); });
  quietly([&] { (void)ttdb::parse_number(args, "the number"); });
  for (const auto& word : ttdb::words(args)) {
    quietly([&] { (void)ttdb::parse_number(word, "a breakpoint number"); });
    (void)ttdb::after_word(args, word);
  }
  (void)ttdb::basename_of(args);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // A script: one command a line, as `ttdb replay -x` reads it.
  for (std::size_t start = 0; start <= input.size();) {
    std::size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    std::string line(input.substr(start, end - start));
    start = end + 1;
    auto command = ttdb::split_command(line);
    if (command) parse_arguments(command->args);
  }
  return 0;
}
