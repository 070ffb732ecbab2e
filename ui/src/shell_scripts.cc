// gdb's scripting in the shell: command lists on breakpoints (`commands N
// ... end`), commands of the user's own (`define`, `document`) and command
// files (`source`). Lines inside a block are collected, not run, up to the
// `end` that closes it (blocks nest).
#include <fstream>

#include "shell_internal.h"

namespace ttdb {

namespace {

constexpr int kMaxSourceDepth = 32;

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
  return text;
}

// Commands after which the rest of a breakpoint's list is not run, as in
// gdb: the program has moved on.
bool resumes(const std::string& name) {
  static const char* const kMotions[] = {"continue", "c", "next", "n", "step", "s", "stepi", "si", "nexti", "ni", "finish",
                                         "until", "u", "advance", "reverse-continue", "rc", "reverse-next", "rn",
                                         "reverse-step", "rs", "reverse-stepi", "rsi", "reverse-nexti", "rni",
                                         "reverse-finish", "goto", "run", "r", "start", "restart", "jump"};
  return std::find(std::begin(kMotions), std::end(kMotions), name) != std::end(kMotions);
}

// Whether the line opens a block of its own, which an `end` closes.
bool opens_block(const std::string& line) {
  auto w = words(line);
  if (w.empty()) return false;
  static const char* const kOpeners[] = {"commands", "define", "document", "if", "while", "python"};
  return std::find(std::begin(kOpeners), std::end(kOpeners), w.front()) != std::end(kOpeners);
}

}  // namespace

void Shell::collect(const std::string& raw) {
  std::string line = trim(raw);
  if (line == "end" && --block_->depth == 0) {
    Block done = std::move(*block_);
    block_.reset();
    switch (done.kind) {
      case Block::Kind::commands:
        for (int id : done.breakpoints) break_info_[id].commands = done.lines;
        break;
      case Block::Kind::define: user_commands_[done.name] = done.lines; break;
      case Block::Kind::document: {
        std::string text;
        for (const auto& l : done.lines) text += l + "\n";
        user_help_[done.name] = text;
        break;
      }
      case Block::Kind::control:
        done.lines.push_back("end");
        run_lines(done.lines, {}, false);
        break;
    }
    return;
  }
  if (opens_block(line)) ++block_->depth;
  block_->lines.push_back(line);
}

void Shell::cmd_commands(const std::string& args) {
  std::vector<int> ids;
  for (const auto& word : words(args)) ids.push_back(static_cast<int>(parse_number(word, "a breakpoint number")));
  if (ids.empty()) {
    if (!last_breakpoint_) throw Error("no breakpoints specified: \"commands\" applies to the last breakpoint made, and there is none");
    ids.push_back(last_breakpoint_);
  }
  auto exists = [&](int id) {
    auto b = engine_.breakpoints();
    auto w = engine_.watchpoints();
    auto c = engine_.catchpoints();
    return std::any_of(b.begin(), b.end(), [&](const Breakpoint& x) { return x.id == id; }) ||
           std::any_of(w.begin(), w.end(), [&](const Watchpoint& x) { return x.id == id; }) ||
           std::any_of(c.begin(), c.end(), [&](const Catchpoint& x) { return x.id == id; });
  };
  for (int id : ids)
    if (!exists(id)) throw Error(fmt::format("no breakpoint number {}", id));
  block_ = Block{Block::Kind::commands, ids, "", {}, 1};
}

void Shell::cmd_define(const std::string& args, Block::Kind kind) {
  std::string name = trim(args);
  if (name.empty() || name.find_first_of(" \t") != std::string::npos)
    throw Error(fmt::format("\"{}\" takes one command name", kind == Block::Kind::define ? "define" : "document"));
  if (kind == Block::Kind::define && is_builtin(name))
    throw Error(fmt::format("\"{}\" is a built-in command; give your command another name", name));
  if (kind == Block::Kind::document && !user_commands_.count(name))
    throw Error(fmt::format("\"{}\" is not a command of your own; \"define\" it first", name));
  block_ = Block{kind, {}, name, {}, 1};
}

void Shell::run_user_command(const std::string& name, const std::string& args) {
  if (++source_depth_ > kMaxSourceDepth) {
    source_depth_ = 0;
    throw Error(fmt::format("\"{}\" calls itself more than {} deep", name, kMaxSourceDepth));
  }
  std::vector<std::string> lines = user_commands_.at(name);
  try {
    run_lines(lines, words(args), false);
  } catch (...) {
    --source_depth_;
    throw;
  }
  --source_depth_;
}

void Shell::cmd_control(const std::string& keyword, const std::string& args) {
  if (trim(args).empty()) throw Error(fmt::format("\"{}\" needs a condition", keyword));
  block_ = Block{Block::Kind::control, {}, "", {keyword + " " + args}, 1};
}

namespace {

// Thrown by loop_break and loop_continue, caught by the loop around them
// (outside one, they are errors).
struct LoopBreak : Error {
  LoopBreak() : Error("loop_break is for the inside of a while loop") {}
};
struct LoopContinue : Error {
  LoopContinue() : Error("loop_continue is for the inside of a while loop") {}
};

constexpr std::uint64_t kMaxRounds = 10'000'000;

// The index of the `end` (or, when `stop_at_else`, the `else`) that belongs
// to the block opened at `open`.
std::size_t matching(const std::vector<std::string>& lines, std::size_t open, bool stop_at_else) {
  int depth = 0;
  for (std::size_t i = open + 1; i < lines.size(); ++i) {
    std::string word = words(lines[i]).empty() ? "" : words(lines[i]).front();
    if (opens_block(lines[i])) ++depth;
    else if (word == "end" && depth-- == 0) return i;
    else if (word == "else" && depth == 0 && stop_at_else) return i;
  }
  throw Error(fmt::format("\"{}\" has no \"end\"", lines[open]));
}

}  // namespace

void Shell::run_lines(const std::vector<std::string>& lines, const std::vector<std::string>& args, bool list) {
  list_moved_ = false;
  run_range(lines, 0, lines.size(), args, list);
}

void Shell::run_range(const std::vector<std::string>& lines, std::size_t from, std::size_t to,
                      const std::vector<std::string>& args, bool list) {
  // $argc and $arg0... stand for the words a user command was given, as in gdb.
  auto substituted = [&](std::string line) {
    for (std::size_t i = args.size(); i-- > 0;) line = replace_all(line, fmt::format("$arg{}", i), args[i]);
    return replace_all(line, "$argc", std::to_string(args.size()));
  };
  for (std::size_t i = from; i < to && !list_moved_ && !quit_; ++i) {
    std::string line = substituted(lines[i]);
    auto command = split_command(line);
    if (!command || command->name == "silent") continue;
    const std::string& name = command->name;
    if (name == "if") {
      std::size_t otherwise = matching(lines, i, true), end = matching(lines, i, false);
      if (decay_truth(evaluate(command->args, *context_))) run_range(lines, i + 1, otherwise, args, list);
      else if (otherwise != end) run_range(lines, otherwise + 1, end, args, list);
      i = end;
    } else if (name == "while") {
      std::size_t end = matching(lines, i, false);
      for (std::uint64_t round = 0; !list_moved_ && decay_truth(evaluate(command->args, *context_)); ++round) {
        if (round == kMaxRounds) throw Error(fmt::format("\"{}\" went round {} times; it stops there", lines[i], kMaxRounds));
        try {
          run_range(lines, i + 1, end, args, list);
        } catch (const LoopBreak&) {
          break;
        } catch (const LoopContinue&) {
        }
      }
      i = end;
    } else if (name == "loop_break") {
      throw LoopBreak{};
    } else if (name == "loop_continue") {
      throw LoopContinue{};
    } else {
      dispatch(name, command->args);
      if (list && resumes(name)) list_moved_ = true;
    }
  }
}

void Shell::cmd_source(const std::string& args) {
  std::string path = trim(args);
  if (path.empty()) throw Error("source needs a file of commands");
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("cannot read {}: {}", path, errno_text(errno)));
  if (source_depth_ >= kMaxSourceDepth) throw Error(fmt::format("{} is sourced more than {} deep", path, kMaxSourceDepth));
  ++source_depth_;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (!execute(line)) {
      --source_depth_;
      throw Error(fmt::format("{}:{}: the command failed; the rest of the file is not run", path, number));
    }
  }
  --source_depth_;
  if (block_) {
    block_.reset();
    throw Error(fmt::format("{} ends inside a block: a line saying \"end\" is missing", path));
  }
}

void Shell::run_breakpoint_commands() {
  // A list's own motions stop at breakpoints whose lists run in turn: one
  // loop runs them all, rather than lists inside lists.
  if (running_commands_) return;
  running_commands_ = true;
  while (!hit_with_commands_.empty() && !quit_) {
    int id = hit_with_commands_.front();
    hit_with_commands_.erase(hit_with_commands_.begin());
    auto info = break_info_.find(id);
    if (info == break_info_.end()) continue;
    std::vector<std::string> lines = info->second.commands;
    try {
      run_lines(lines, {}, true);
    } catch (const Error& e) {
      std::string message = e.what();
      if (!message.empty()) message[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(message[0])));
      err_ << message << (message.ends_with(".") ? "" : ".") << "\n";
    }
  }
  running_commands_ = false;
}

}  // namespace ttdb
