// The shell's motion commands: they move with the shared Motions and say
// where the program stopped.
#include <algorithm>
#include <cstring>

#include "shell_internal.h"
#include "ttdb/tracer/render.h"

namespace ttdb {

// --- commands: moving ------------------------------------------------------------

void Shell::cmd_continue(const std::string& args, Direction direction) {
  std::int64_t times = args.empty() ? 1 : parse_number(args, "the repeat count");
  if (direction == Direction::forward) require_live();
  Stop stop;
  for (std::int64_t i = 0; i < times; ++i) {
    do stop = engine_.resume(direction);
    while (ignored(stop) || passed_signal(stop));
    if (stop.kind != Stop::Kind::breakpoint && stop.kind != Stop::Kind::watchpoint) break;
  }
  print_stop(stop);
}

void Shell::cmd_step(const std::string& args, bool into, Direction direction) {
  std::int64_t times = args.empty() ? 1 : parse_number(args, "the repeat count");
  if (!ensure_live()) {
    if (direction == Direction::forward) require_live();
    Stop stop = engine_.stepi(Direction::backward);
    print_stop(stop);
    return;
  }
  Stop stop;
  int still_hidden = -1;
  for (std::int64_t i = 0; i < times; ++i) {
    if (into && direction == Direction::forward && hidden_inlined() > 0) {
      // gdb's step into an inlined call that begins here: shown, not run.
      still_hidden = --hidden_inlined_;
      frames_.reset();
      selected_frame_ = 0;
      stop = Stop{Stop::Kind::step};
      continue;
    }
    still_hidden = -1;
    std::size_t hidden = hidden_inlined();
    stop = direction == Direction::forward ? motions_.step_line(into, hidden) : motions_.reverse_step_line(into, hidden);
    moved();
    if (direction == Direction::forward && stop.kind == Stop::Kind::step && motions_.entered_inlined_call() && ensure_live())
      // A call inlined on the line stepped from: step shows its frame.
      hidden_inlined_ = still_hidden = std::max(0, static_cast<int>(hidden_inlined()) - 1);
    if (stop.kind != Stop::Kind::step && stop.kind != Stop::Kind::none) break;
  }
  print_stop(stop, still_hidden);
}

void Shell::cmd_stepi(const std::string& args, bool over, Direction direction) {
  std::int64_t times = args.empty() ? 1 : parse_number(args, "the repeat count");
  if (direction == Direction::forward) require_live();
  Stop stop;
  for (std::int64_t i = 0; i < times; ++i) {
    if (direction == Direction::forward)
      stop = over ? motions_.next_instruction() : engine_.stepi(Direction::forward);
    else
      stop = over && ensure_live() ? motions_.reverse_next_instruction() : engine_.stepi(Direction::backward);
    moved();
    if (stop.kind != Stop::Kind::step) break;
  }
  print_stop(stop);
}

void Shell::cmd_finish(Direction direction) {
  require_live();
  if (direction == Direction::backward) {
    out_ << "Run back to call of #" << selected_frame_ << "  " << frame_summary(frame(), selected_frame_ > 0) << "\n";
    print_stop(motions_.reverse_finish(frames(), static_cast<std::size_t>(selected_frame_)));
    return;
  }
  const Frame& f = frame();
  if (static_cast<std::size_t>(f.level) + 1 >= frames().size()) throw Error("\"finish\" not meaningful in the outermost frame");
  out_ << "Run till exit from #" << f.level << "  " << frame_summary(f, f.level > 0) << "\n";
  TypeRef result = f.inlined ? nullptr : debug().return_type(f.lookup_pc());
  Stop stop = motions_.finish(frames(), static_cast<std::size_t>(selected_frame_));
  print_stop(stop);
  if (stop.kind == Stop::Kind::step && result && ensure_live() && result->is_scalar()) {
    Registers regs = engine_.registers();
    Value v{result, Bytes(result->size), std::nullopt};
    std::memcpy(v.bytes.data(), &regs.rax, std::min<std::size_t>(8, v.bytes.size()));
    values_.push_back(v);
    out_ << "Value returned is $" << values_.size() << " = " << format_value(v, *context_) << "\n";
  }
}

void Shell::cmd_until(const std::string& args) {
  require_live();
  if (args.empty()) {
    print_stop(motions_.until_next_line(frames()));
    return;
  }
  std::string description;
  print_stop(motions_.until(resolve_location(args, description), frames()));
}

void Shell::cmd_advance(const std::string& args) {
  if (args.empty()) throw Error("advance needs a location: advance FUNCTION | FILE:LINE | *ADDRESS");
  require_live();
  std::string description;
  print_stop(motions_.advance(resolve_location(args, description), frames()));
}

void Shell::cmd_start() {
  // gdb's start: a temporary breakpoint at main, from the beginning.
  engine_.seek(Position{1, {}});
  moved();
  std::string description;
  auto main_body = resolve_location("main", description);
  int id = engine_.add_breakpoint(main_body.front(), true);
  break_info_[id] = BreakInfo{description, "", false, nullptr, 0, "", 0, false, "", {}, {}, ""};
  out_ << fmt::format("Temporary breakpoint {} at {:#x}: {}\n", id, main_body.front(), description.substr(description.find(' ') + 1));
  print_stop(engine_.resume(Direction::forward));
}

void Shell::cmd_run() {
  print_stop(engine_.seek(Position{1, {}}));
}

void Shell::cmd_goto(const std::string& args) {
  std::int64_t n = evaluate(goto_target(args), *context_).as_int();
  Stop stop = engine_.goto_event(n);
  print_stop(stop);
}

void Shell::cmd_events(const std::string& args) {
  std::int64_t around = args.empty() ? 5 : parse_number(args, "the number of events");
  std::int64_t current = engine_.event();
  std::int64_t first = std::max<std::int64_t>(1, current - around);
  std::int64_t last = std::min<std::int64_t>(engine_.event_count(), current + around);
  for (std::int64_t id = first; id <= last; ++id) {
    auto e = engine_.recorded_event(id);
    if (!e) break;
    out_ << (id == current ? "=> " : "   ") << fmt::format("{:>6}  {}\n", id, render_event(*e));
  }
}

void Shell::cmd_checkpoint() {
  int id = engine_.bookmark();
  out_ << fmt::format("Checkpoint {} at {}, {}\n", id, engine_.position().describe(), short_location());
}

void Shell::cmd_restart(const std::string& args) {
  if (args.empty()) throw Error("restart needs a checkpoint number; \"info checkpoints\" lists them");
  int id = static_cast<int>(parse_number(args, "the checkpoint number"));
  auto position = engine_.bookmark_position(id);
  if (!position) throw Error(fmt::format("there is no checkpoint {}; \"info checkpoints\" lists them", id));
  print_stop(engine_.seek(*position));
}

}  // namespace ttdb
