// The shell's breakpoints and inspection commands.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <tuple>

#include "shell_internal.h"

namespace ttdb {
namespace {

// The most x shows at once: 1 MiB of memory, or a sixteenth as many instructions or strings.
constexpr std::uint64_t kMaxExamine = 1 << 20;

}  // namespace

// --- commands: breakpoints -----------------------------------------------------------

std::vector<std::uint64_t> Shell::resolve_location(const std::string& spec, std::string& description, std::optional<int>* line_for) {
  if (ensure_live()) refresh_modules();
  if (spec.empty()) {
    if (!ensure_live()) throw Error("no default location: the replay is at its end");
    description = fmt::format("at {:#x}", engine_.registers().rip);
    return {frame().pc};
  }
  LocationSpec location = parse_location(spec);
  if (location.kind == LocationSpec::Kind::address) {
    std::uint64_t addr = decay_address(evaluate(location.text, *context_));
    description = fmt::format("at {:#x}", addr);
    if (auto f = debug().function_at(addr)) description += " in " + f->name;
    return {addr};
  }
  if (location.kind == LocationSpec::Kind::line) {
    std::string file = location.listed_file ? list_file_ : location.text;
    if (file.empty()) {
      if (auto here = ensure_live() ? debug().line_at(frame().lookup_pc()) : std::nullopt) file = here->file;
      // gdb's default source file: main's.
      for (const auto& f : file.empty() ? debug().functions_named("main") : std::vector<Function>{})
        if (auto line = debug().line_at(f.body)) file = line->file;
      if (file.empty()) throw Error("no default source file; name one: break FILE:LINE");
    }
    int found = location.line;
    auto addrs = debug().line_addresses(file, location.line, &found);
    if (addrs.empty()) throw Error(fmt::format("no line {} in file \"{}\"", location.line, file));
    // The line the breakpoint is for, as gdb says it, even where optimized
    // code shares its first address with another line.
    auto where = debug().line_at(addrs.front());
    description = fmt::format("at {}:{}", basename_of(where ? where->file : file), found);
    if (line_for) *line_for = found;
    return addrs;
  }
  auto functions = debug().functions_named(spec);
  if (functions.empty()) throw Error(fmt::format("function \"{}\" not defined", spec));
  // The dynamic loader keeps private copies of a few libc functions
  // (opendir, malloc...); the program calls libc's.
  auto in_loader = [&](const Function& fn) {
    auto module = debug().module_at(fn.low);
    return module && module->name.find("/ld-linux") != std::string::npos;
  };
  std::stable_partition(functions.begin(), functions.end(), [&](const Function& fn) { return !in_loader(fn); });
  const Function& f = functions.front();
  auto line = debug().line_at(f.body);
  description = "in " + f.name + (line ? fmt::format(" at {}:{}", basename_of(line->file), line->line) : "");
  // As gdb: every function of that name is a location: each copy with
  // debug information (each call the compiler inlined, each static
  // function), and each symbol of another module (a C++ method named
  // `write` in the program, and libc's `write`).
  auto module_of = [&](const Function& fn) {
    auto module = debug().module_at(fn.low);
    return module ? module->name : std::string();
  };
  std::vector<std::uint64_t> out{f.body};
  for (const auto& other : functions)
    if (other.body != f.body && !in_loader(other) && (other.has_lines || !f.has_lines || module_of(other) != module_of(f)))
      out.push_back(other.body);
  std::sort(out.begin(), out.end());
  return out;
}

std::string Shell::location_text(std::uint64_t addr) {
  auto inlined = debug().inlined_calls(addr);
  auto function = debug().function_at(addr);
  auto line = debug().line_at(addr);
  std::string name = !inlined.empty() ? inlined.front().name : function ? function->name : "??";
  return "in " + name + (line ? fmt::format(" at {}:{}", basename_of(line->file), line->line) : "");
}

void Shell::cmd_break(const std::string& args, bool temporary) {
  BreakSpec spec = parse_break(args);
  const std::string& condition = spec.condition;
  // gdb's `break LOCATION thread N`: a breakpoint of one thread.
  int thread = 0;
  std::string thread_id;
  if (!spec.thread.empty()) std::tie(thread, thread_id) = recorded_thread(spec.thread);
  std::string description;
  std::optional<int> line_for;
  auto addrs = resolve_location(spec.location, description, &line_for);
  auto kind = parse_location(spec.location).kind;
  int id = engine_.add_breakpoint(addrs, temporary);
  last_breakpoint_ = id;
  break_info_[id] = BreakInfo{description, condition, false, nullptr, thread, thread_id, 0, false, "", {}, {}, ""};
  if (addrs.size() > 1) break_info_[id].locations = addrs;
  if (kind == LocationSpec::Kind::function) {
    break_info_[id].function = spec.location;
    relocatable_[id] = spec.location;
  }
  if (kind == LocationSpec::Kind::line)
    if (auto line = debug().line_at(addrs.front())) relocatable_[id] = fmt::format("{}:{}", line->file, line_for.value_or(line->line));
  if (thread) install_condition();
  const char* title = temporary ? "Temporary breakpoint" : "Breakpoint";
  if (addrs.size() == 1) {
    // As gdb says it: the line a line's breakpoint is for, else the line at the address.
    auto line = debug().line_at(addrs.front());
    if (line)
      out_ << fmt::format("{} {} at {:#x}: file {}, line {}.\n", title, id, addrs.front(), basename_of(line->file),
                          line_for.value_or(line->line));
    else
      out_ << fmt::format("{} {} at {:#x}\n", title, id, addrs.front());
  } else if (kind == LocationSpec::Kind::line)
    out_ << fmt::format("{} {} at {:#x}: {}. ({} locations)\n", title, id, addrs.front(),
                        description.substr(description.find(' ') + 1), addrs.size());
  else
    out_ << fmt::format("{} {} at {:#x}: {}. ({} locations)\n", title, id, addrs.front(), spec.location, addrs.size());
  if (!condition.empty()) cmd_condition(fmt::format("{} {}", id, condition));
}

std::string Shell::watchpoint_title(int id) const {
  auto watches = engine_.watchpoints();
  auto found = std::find_if(watches.begin(), watches.end(), [&](const Watchpoint& w) { return w.id == id; });
  WatchKind kind = found == watches.end() ? WatchKind::write : found->kind;
  const char* what = kind == WatchKind::write ? "Hardware watchpoint" : kind == WatchKind::read ? "Hardware read watchpoint"
                                                                                                 : "Hardware access (read/write) watchpoint";
  return fmt::format("{} {}", what, id);
}

void Shell::cmd_watch(const std::string& args, WatchKind kind) {
  std::string expr = watch_expression(args);
  require_live();
  Value v = evaluate(expr, *context_);
  if (!v.address) throw Error(fmt::format("cannot watch \"{}\": it is not in memory", expr));
  std::size_t size = v.type->size;
  int id = 0;
  try {
    id = engine_.add_watchpoint(*v.address, static_cast<std::uint32_t>(size), kind);
  } catch (const Error& e) {
    throw Error(fmt::format("cannot watch \"{}\": {}", expr, e.what()));
  }
  last_breakpoint_ = id;
  break_info_[id] = BreakInfo{expr, "", true, v.type, 0, "", 0, false, "", {}, {}, ""};
  out_ << fmt::format("{}: {}\n", watchpoint_title(id), expr);
}

void Shell::cmd_delete(const std::string& args) {
  auto w = words(args);
  if (!w.empty() && (w[0] == "checkpoint" || w[0] == "checkpoints")) {
    for (std::size_t i = 1; i < w.size(); ++i)
      if (!engine_.forget_bookmark(static_cast<int>(parse_number(w[i], "a checkpoint number"))))
        throw Error(fmt::format("there is no checkpoint {}", w[i]));
    return;
  }
  if (!w.empty() && w[0].starts_with("br")) w.erase(w.begin());
  if (w.empty()) {
    for (const auto& b : engine_.breakpoints()) engine_.remove(b.id);
    for (const auto& b : engine_.watchpoints()) engine_.remove(b.id);
    for (const auto& c : engine_.catchpoints()) engine_.remove(c.id);
    break_info_.clear();
    return;
  }
  for (const auto& word : w) {
    int id = static_cast<int>(parse_number(word, "a breakpoint number"));
    if (!engine_.remove(id)) throw Error(fmt::format("no breakpoint number {}", id));
    break_info_.erase(id);
  }
}

void Shell::cmd_enable(const std::string& args, bool enabled) {
  auto w = words(args);
  if (w.empty()) {
    for (const auto& b : engine_.breakpoints()) engine_.set_enabled(b.id, enabled);
    for (const auto& b : engine_.watchpoints()) engine_.set_enabled(b.id, enabled);
    for (const auto& c : engine_.catchpoints()) engine_.set_enabled(c.id, enabled);
    return;
  }
  for (const auto& word : w) {
    int id = static_cast<int>(parse_number(word, "a breakpoint number"));
    if (!engine_.set_enabled(id, enabled)) throw Error(fmt::format("no breakpoint number {}", id));
  }
}

void Shell::cmd_condition(const std::string& args) {
  auto [id, rest] = parse_condition(args);
  auto info = break_info_.find(id);
  if (info == break_info_.end()) throw Error(fmt::format("no breakpoint number {}", id));
  info->second.condition = rest;
  install_condition();
}

void Shell::install_condition() {
  engine_.set_condition([this](int hit) {
    auto it = break_info_.find(hit);
    if (it == break_info_.end()) return true;
    if (it->second.thread) {
      auto inferiors = engine_.inferiors();
      bool its = std::any_of(inferiors.begin(), inferiors.end(),
                             [&](const auto& i) { return i.moves_next && i.pid == it->second.thread; });
      if (!its) return false;
    }
    if (it->second.condition.empty()) return true;
    moved();
    try {
      return decay_truth(evaluate(it->second.condition, *context_));
    } catch (const Error& e) {
      err_ << fmt::format("Error in testing condition for breakpoint {}: {}\n", hit, e.what());
      return true;
    }
  });
}

// --- commands: looking -----------------------------------------------------------------

void Shell::cmd_display(const std::string& args) {
  auto [format, expr] = split_format(args, "xduotcafr");
  if (expr.empty()) {
    show_displays();
    return;
  }
  displays_.push_back(Display{next_display_++, format, expr});
  if (ensure_live()) {
    auto keep = std::move(displays_);
    displays_ = {keep.back()};
    show_displays();
    displays_ = std::move(keep);
  }
}

void Shell::cmd_undisplay(const std::string& args) {
  auto w = words(args);
  if (w.empty()) {
    displays_.clear();
    return;
  }
  for (const auto& word : w) {
    int id = static_cast<int>(parse_number(word, "a display number"));
    auto it = std::find_if(displays_.begin(), displays_.end(), [&](const Display& d) { return d.id == id; });
    if (it == displays_.end()) throw Error(fmt::format("no display number {}", id));
    displays_.erase(it);
  }
}

void Shell::show_displays() {
  if (!ensure_live()) return;
  for (const auto& d : displays_) {
    std::string shown = d.format ? fmt::format("/{} ", d.format) : "";
    try {
      out_ << fmt::format("{}: {}{} = {}\n", d.id, shown, d.expression, format_value(evaluate(d.expression, *context_), *context_, d.format));
    } catch (const Error& e) {
      out_ << fmt::format("{}: {}{} = <error: {}>\n", d.id, shown, d.expression, e.what());
    }
  }
}

TypeRef Shell::type_of_expression(const std::string& expr) {
  // Types need no memory: `ptype *p` works where p is null.
  if (expr.starts_with("*")) {
    TypeRef pointer = type_of_expression(trim(expr.substr(1)));
    if ((pointer->kind == Type::Kind::pointer || pointer->kind == Type::Kind::array) && pointer->target) return pointer->target;
  }
  return evaluate(expr, *context_).type;
}

void Shell::cmd_ptype(const std::string& args, bool members) {
  std::string expr = trim(args);
  if (expr.empty()) throw Error("an expression or a type is needed");
  TypeRef type = context_->type_named(expr);
  if (!type) type = type_of_expression(expr);
  bool aggregate = type->kind == Type::Kind::structure || type->kind == Type::Kind::union_;
  if (!members || (!aggregate && type->kind != Type::Kind::enumeration)) {
    out_ << "type = " << type->display() << "\n";
    return;
  }
  if (type->cplusplus && aggregate) {
    ptype_class(*type);
    return;
  }
  out_ << "type = " << type->display() << " {\n";
  if (type->kind == Type::Kind::enumeration) {
    std::string names;
    for (const auto& [name, value] : type->enumerators) names += (names.empty() ? "" : ", ") + name;
    out_ << "    " << names << "\n}\n";
    return;
  }
  for (const auto& m : type->members) {
    // C declares arrays and pointers around the name: "int values[4];".
    std::string declared = m.type->display();
    std::string line;
    if (auto bracket = declared.find(" ["); bracket != std::string::npos)
      line = declared.substr(0, bracket) + " " + m.name + declared.substr(bracket + 1);
    else if (declared.ends_with("*"))
      line = declared + m.name;
    else
      line = declared + " " + m.name;
    out_ << "    " << line << (m.bit_size ? fmt::format(" : {}", m.bit_size) : "") << ";\n";
  }
  out_ << "}\n";
}

void Shell::ptype_class(const Type& type) {
  // As gdb writes a C++ class: its bases, then its members and methods
  // under the access labels they have, a blank line between sections.
  std::string bases;
  for (const auto& m : type.members)
    if (m.is_base)
      bases += (bases.empty() ? " : " : ", ") + std::string(m.access == Member::Access::private_ ? "private " : m.access == Member::Access::protected_ ? "protected " : "public ") + m.name;
  out_ << "type = " << (type.is_class ? "class " : type.kind == Type::Kind::union_ ? "union " : "struct ") << type.name << bases << " {\n";
  auto label = [](Member::Access a) { return a == Member::Access::private_ ? "private" : a == Member::Access::protected_ ? "protected" : "public"; };
  // A struct's members start public and a class's private: gdb names the access only where it is not the default.
  std::optional<Member::Access> shown;
  Member::Access by_default = type.is_class ? Member::Access::private_ : Member::Access::public_;
  bool any = false;
  auto section = [&](Member::Access access, bool new_group) {
    if (shown && *shown == access && !new_group) return;
    if (any) out_ << "\n";
    if (type.is_class || access != by_default) out_ << "  " << label(access) << ":\n";
    shown = access;
  };
  for (const auto& m : type.members) {
    if (m.is_base || m.artificial) continue;
    section(m.access, false);
    any = true;
    std::string declared = m.type->display();
    out_ << "    " << declared << (declared.ends_with("*") || declared.ends_with("&") ? "" : " ") << m.name << ";\n";
  }
  bool first_method = true;
  for (const auto& method : type.methods) {
    section(method.access, first_method);
    first_method = false;
    any = true;
    out_ << "    " << method.declaration << ";\n";
  }
  out_ << "}\n";
}

void Shell::cmd_print(const std::string& args, bool record) {
  auto [format, expr] = split_format(args, "xduotcafr");
  if (expr.empty()) expr = "$";
  Value v = evaluate(expr, *context_);
  std::string text = format_value(v, *context_, format);
  if (!record) {
    out_ << text;
    return;
  }
  values_.push_back(v);
  out_ << "$" << values_.size() << " = " << text << "\n";
}

void Shell::cmd_x(const std::string& args) {
  auto [count, f, size, expr] = parse_examine(args, last_x_format_);
  last_x_format_ = f;
  std::uint64_t addr = next_x_;
  if (!expr.empty()) {
    Value v = evaluate(expr, *context_);
    addr = decay_address(v);
  }
  require_live();
  auto label = [&](std::uint64_t a) {
    auto sym = context_->symbolize(a);
    return fmt::format("{:#x}{}:", a, sym ? " <" + *sym + ">" : "");
  };
  if ((f == 'i' || f == 's') && static_cast<std::uint64_t>(count) > kMaxExamine / 16)
    throw Error(fmt::format("cannot show {} {} with x/{}{}: x shows at most {} at once; ask for fewer", count,
                            f == 'i' ? "instructions" : "strings", count, f, kMaxExamine / 16));
  if (f == 'i') {
    for (std::int64_t i = 0; i < count; ++i) {
      std::size_t length = 0;
      out_ << disassemble_one(addr, &length, true) << "\n";
      if (!length) break;
      addr += length;
    }
    next_x_ = addr;
    return;
  }
  if (f == 's') {
    for (std::int64_t i = 0; i < count; ++i) {
      CString s = read_c_string(addr, 200, *context_);
      if (s.fault) throw Error(fmt::format("cannot access memory at address {:#x}", *s.fault));
      out_ << label(addr) << "\t" << format_value(char_array(s.text), *context_) << "\n";
      addr += s.text.size() + 1;
    }
    next_x_ = addr;
    return;
  }
  std::size_t unit = size == 'b' ? 1 : size == 'h' ? 2 : size == 'g' ? 8 : size == 'w' ? 4 : (f == 'a' ? 8 : f == 'c' ? 1 : 4);
  if (static_cast<std::uint64_t>(count) * unit > kMaxExamine)
    throw Error(fmt::format("cannot show {} bytes with x/{}: x shows at most {} MiB at once; ask for fewer",
                            static_cast<std::uint64_t>(count) * unit, count, kMaxExamine >> 20));
  std::size_t per_line = f == 'a' ? 2 : unit == 8 ? 2 : unit == 4 ? 4 : 8;
  auto bytes = engine_.read_memory(addr, unit * static_cast<std::size_t>(count));
  if (!bytes) throw Error(fmt::format("cannot access memory at address {:#x}", addr));
  for (std::int64_t i = 0; i < count; ++i) {
    if (i % static_cast<std::int64_t>(per_line) == 0) out_ << (i ? "\n" : "") << label(addr + static_cast<std::uint64_t>(i) * unit);
    std::uint64_t raw = 0;
    std::memcpy(&raw, bytes->data() + static_cast<std::size_t>(i) * unit, unit);
    char shown = f == 'x' && unit < 8 ? 'z' : f;
    out_ << "\t" << format_scalar(raw, unit, shown, *context_);
  }
  out_ << "\n";
  next_x_ = addr + unit * static_cast<std::size_t>(count);
  // gdb's $_: the last unit examined, as a pointer to a unit-sized integer.
  auto unit_type = std::make_shared<Type>();
  unit_type->kind = Type::Kind::integer;
  unit_type->is_signed = true;
  unit_type->size = unit;
  unit_type->name = fmt::format("int{}_t", unit * 8);
  last_examined_ = Value{make_pointer(unit_type), Bytes(8), std::nullopt};
  std::uint64_t last = next_x_ - unit;
  std::memcpy(last_examined_->bytes.data(), &last, 8);
}

void Shell::cmd_info(const std::string& args) {
  auto w = words(args);
  if (w.empty()) throw Error("\"info\" must be followed by the name of an info command; try \"help info\"");
  std::string what = w[0];
  std::string rest = after_word(args, what);
  auto is = [&](const char* full, std::size_t min) { return what.size() >= min && std::string(full).starts_with(what); };
  if (is("breakpoints", 1) || is("watchpoints", 3)) return cmd_info_breakpoints();
  if (is("registers", 1) || is("all-registers", 2)) return cmd_info_registers(rest);
  if (is("locals", 2)) return cmd_info_variables(false);
  if (is("args", 2)) return cmd_info_variables(true);
  if (is("sharedlibrary", 2)) return cmd_info_sharedlibrary();
  if (is("checkpoints", 2)) return cmd_info_checkpoints();
  if (is("inferiors", 3)) return cmd_info_inferiors();
  if (is("threads", 2)) return cmd_info_threads();
  if (is("display", 1)) {
    if (displays_.empty()) out_ << "There are no auto-display expressions now.\n";
    for (const auto& d : displays_) out_ << fmt::format("{}:   y  {}{}\n", d.id, d.format ? fmt::format("/{} ", d.format) : "", d.expression);
    return;
  }
  if (is("frame", 1)) return cmd_info_frame();
  if (is("record", 3)) return cmd_info_record();
  if (is("functions", 2)) return cmd_info_declared(DebugInfo::DeclarationKind::function, rest);
  if (is("variables", 1)) return cmd_info_declared(DebugInfo::DeclarationKind::variable, rest);
  if (is("types", 2)) return cmd_info_declared(DebugInfo::DeclarationKind::type, rest);
  if (is("signals", 3) || what == "handle") return cmd_info_signals(rest);
  if (is("line", 2)) {
    // info line [LOCATION]: where the line of the selected frame, or of LOCATION, starts.
    std::uint64_t pc = frame().lookup_pc();
    if (!trim(rest).empty()) {
      std::string description;
      pc = resolve_location(rest, description).front();
    }
    auto line = debug().line_at(pc);
    if (!line) throw Error(fmt::format("no line number information for address {:#x}", pc));
    auto sym = context_->symbolize(line->row_addr);
    out_ << fmt::format("Line {} of \"{}\" starts at address {:#x}{}.\n", line->line, line->file, line->row_addr,
                        sym ? " <" + *sym + ">" : "");
    return;
  }
  if (is("symbol", 2)) {
    std::uint64_t addr = decay_address(evaluate(rest, *context_));
    auto sym = debug().symbol_at(addr);
    if (!sym) out_ << fmt::format("No symbol matches {}.\n", rest);
    else out_ << fmt::format("{}{} in section .text\n", sym->name, sym->offset ? fmt::format(" + {}", sym->offset) : "");
    return;
  }
  throw Error(fmt::format("undefined info command: \"{}\"; try \"help info\"", what));
}

void Shell::cmd_info_frame() {
  // As gdb lays it out: where the frame is, who called it, where its
  // arguments and locals are, and where the registers it saved are.
  const Frame& f = frame();
  const auto& all = frames();
  auto function = debug().frame_function(f);
  auto line = debug().frame_line(f);
  // The frames of other machine frames: the one this returns to, and the one called from it.
  const Frame* outer = nullptr;
  const Frame* inner = nullptr;
  for (const auto& other : all) {
    if (other.machine_level == f.machine_level + 1 && !outer) outer = &other;
    if (other.machine_level == f.machine_level - 1 && !other.inlined) inner = &other;
  }
  out_ << fmt::format("Stack level {}, frame at {:#x}:\n", f.level, f.cfa);
  out_ << fmt::format(" rip = {:#x} in {}", f.pc, function ? function->name : "??");
  if (line) out_ << fmt::format(" ({}:{})", basename_of(line->file), line->line);
  auto return_address = f.cfa ? engine_.read_memory(f.cfa - 8, 8) : std::nullopt;
  if (return_address) {
    std::uint64_t saved = 0;
    std::memcpy(&saved, return_address->data(), 8);
    out_ << fmt::format("; saved rip = {:#x}", saved);
  }
  out_ << "\n";
  std::vector<std::string> links;
  if (f.inlined) links.push_back(fmt::format("inlined into frame {}", f.level + 1));
  else if (outer) links.push_back(fmt::format("called by frame at {:#x}", outer->cfa));
  if (inner && !f.inlined) links.push_back(fmt::format("caller of frame at {:#x}", inner->cfa));
  for (std::size_t i = 0; i < links.size(); ++i) out_ << (i ? ", " : " ") << links[i] << (i + 1 == links.size() ? "\n" : "");
  if (auto language = debug().language_at(f.lookup_pc())) out_ << fmt::format(" source language {}.\n", *language);
  // With a frame pointer, arguments and locals are addressed from it: the
  // saved rbp sits just below the return address.
  bool frame_pointer = !f.inlined && f.cfa && f.known[6] && f.regs[6] == f.cfa - 16;
  std::string base = frame_pointer ? fmt::format("{:#x}", f.cfa - 16) : "unknown address";
  std::string args = function && function->has_lines ? arguments_text(f) : "";
  out_ << fmt::format(" Arglist at {}, args: {}\n", base, args);
  out_ << fmt::format(" Locals at {}, Previous frame's sp is {:#x}\n", base, f.cfa);
  if (f.cfa && !f.inlined)
    out_ << " Saved registers:\n " << (frame_pointer ? fmt::format(" rbp at {:#x},", f.cfa - 16) : "")
         << fmt::format(" rip at {:#x}\n", f.cfa - 8);
}

std::string Shell::command_rows(int id) {
  std::string rows;
  for (const auto& line : break_info_[id].commands) rows += "        " + line + "\n";
  return rows;
}

void Shell::cmd_info_breakpoints() {
  auto bps = engine_.breakpoints();
  auto wps = engine_.watchpoints();
  auto cps = engine_.catchpoints();
  if (bps.empty() && wps.empty() && cps.empty()) {
    out_ << "No breakpoints or watchpoints.\n";
    return;
  }
  // The address column is as wide as an address when something has one
  // (an exception catchpoint is a breakpoint, as gdb's is).
  std::size_t width = bps.empty() && wps.empty() ? 10 : 18;
  out_ << fmt::format("Num     Type           Disp Enb {:<{}} What\n", "Address", width);
  std::map<int, std::string> rows;
  auto catch_row = [&](int id, bool enabled, std::uint64_t hits) {
    std::string row = fmt::format("{:<7} {:<14} {:<4} {:<3} {:<{}} {}\n", id, "catchpoint", "keep", enabled ? "y" : "n", "", width,
                                  break_info_[id].what);
    if (hits) row += fmt::format("\tcatchpoint already hit {} time{}\n", hits, hits == 1 ? "" : "s");
    rows[id] = row + command_rows(id);
  };
  for (const auto& c : cps) catch_row(c.id, c.enabled, c.hits);
  for (const auto& b : bps) {
    const auto& info = break_info_[b.id];
    if (info.catchpoint) {
      catch_row(b.id, b.enabled, b.hits);
      continue;
    }
    bool several = b.addrs.size() > 1;
    std::string address = several ? fmt::format("{:<18}", "<MULTIPLE>") : fmt::format("{:#018x}", b.addrs.front());
    std::string row = fmt::format("{:<7} {:<14} {:<4} {:<3} {} {}\n", b.id, "breakpoint", b.temporary ? "del" : "keep",
                                  b.enabled ? "y" : "n", address, several ? "" : info.what);
    if (!info.condition.empty()) row += "\tstop only if " + info.condition + "\n";
    if (info.thread) row += "\tstop only in thread " + info.thread_id + "\n";
    if (b.hits) row += fmt::format("\tbreakpoint already hit {} time{}\n", b.hits, b.hits == 1 ? "" : "s");
    for (std::size_t i = 0; several && i < b.addrs.size(); ++i)
      row += fmt::format("{:<28}{:<4}{:#018x} {}\n", fmt::format("{}.{}", b.id, i + 1), b.enabled ? "y" : "n", b.addrs[i],
                         location_text(b.addrs[i]));
    rows[b.id] = row + command_rows(b.id);
  }
  for (const auto& w : wps) {
    std::string row = fmt::format("{:<7} {:<14} {:<4} {:<3} {:<18} {}\n", w.id,
                                  w.kind == WatchKind::write ? "hw watchpoint" : w.kind == WatchKind::read ? "read watchpoint" : "acc watchpoint", "keep", w.enabled ? "y" : "n", "",
                                  break_info_[w.id].what);
    if (w.hits) row += fmt::format("\tbreakpoint already hit {} time{}\n", w.hits, w.hits == 1 ? "" : "s");
    rows[w.id] = row + command_rows(w.id);
  }
  for (const auto& [id, row] : rows) out_ << row;
}

void Shell::cmd_info_registers(const std::string& args) {
  require_live();
  auto names = words(args);
  auto show = [&](const std::string& name) {
    std::string n = name.starts_with("$") ? name.substr(1) : name;
    auto v = context_->dollar(n);
    if (!v) throw Error(fmt::format("invalid register \"{}\"", name));
    std::uint64_t raw = v->as_uint();
    std::string natural;
    if (n == "eflags") natural = flags_text(*eflags_type(), raw);
    else if (n == "rip" || n == "pc") natural = format_scalar(raw, 8, 'a', *context_);
    else if (n == "rsp" || n == "rbp" || n == "sp" || n == "fp") natural = fmt::format("{:#x}", raw);
    else natural = v->type->size == 4 ? std::to_string(static_cast<std::int32_t>(raw)) : std::to_string(static_cast<std::int64_t>(raw));
    out_ << fmt::format("{:<15}{:<19}{}\n", n, fmt::format("{:#x}", raw), natural);
  };
  if (!names.empty()) {
    for (const auto& n : names) show(n);
    return;
  }
  for (const auto& r : register_names()) {
    if (std::string(r.name) == "orig_rax") continue;
    if (selected_frame_ > 0 && (r.dwarf < 0 || !frame().known[static_cast<std::size_t>(r.dwarf)])) continue;
    show(r.name);
  }
}

void Shell::cmd_info_variables(bool arguments) {
  if (arguments) {
    print_variables(frame(), debug().arguments(frame(), caller_of(frame())), "No arguments.", "");
    return;
  }
  print_locals_of(frame(), "");
}

void Shell::print_locals_of(const Frame& f, const std::string& indent) {
  print_variables(f, debug().locals(f, caller_of(f)), "No locals.", indent);
}

void Shell::print_variables(const Frame& f, const std::vector<Variable>& vars, const char* none, const std::string& indent) {
  if (vars.empty()) {
    out_ << indent << none << "\n";
    return;
  }
  context_->frame_override = &f;
  for (const auto& v : vars) {
    std::string value;
    try {
      auto val = context_->value_of(v);
      value = val ? format_value(*val, *context_, 0, false) : "<unavailable>";
    } catch (const Error& e) {
      value = fmt::format("<error: {}>", e.what());
    }
    out_ << indent << v.name << " = " << value << "\n";
  }
  context_->frame_override = nullptr;
}

void Shell::cmd_info_sharedlibrary() {
  require_live();
  refresh_modules();
  out_ << "From                To                  Syms Read   Shared Object Library\n";
  for (const auto& m : debug().modules()) {
    // Libraries the program loads later are known already; show those loaded now.
    if (m.name.starts_with("[") || !engine_.read_memory(m.low, 1)) continue;
    out_ << fmt::format("{:#018x}  {:#018x}  {:<11} {}\n", m.low, m.high, m.has_debug_info ? "Yes" : "Yes (*)", m.name);
  }
  out_ << "(*): Shared library is missing debugging information.\n";
}

void Shell::cmd_info_checkpoints() {
  auto marks = engine_.bookmarks();
  if (marks.empty()) out_ << "No checkpoints.\n";
  for (const auto& [id, position] : marks)
    out_ << fmt::format("{:<4}{}{}\n", id, position.describe(), position == engine_.position() ? "  (here)" : "");
  auto count = engine_.checkpoint_count();
  out_ << fmt::format("The engine keeps {} checkpoint{} in all, holding {} KiB of private memory.\n", count, count == 1 ? "" : "s",
                      engine_.checkpoint_memory_kib());
}

void Shell::cmd_backtrace(const std::string& args) {
  // backtrace [full] [N | -N]: the innermost N frames, or the outermost N.
  bool full = false;
  std::optional<std::int64_t> count;
  for (const auto& word : words(args)) {
    if (word == "full" || word == "-full") full = true;
    else count = parse_number(word, "the frame count");
  }
  const auto& all = frames();
  std::size_t first = 0, end = all.size();
  if (count && *count >= 0) end = std::min<std::size_t>(all.size(), static_cast<std::size_t>(*count));
  if (count && *count < 0) first = all.size() - std::min<std::size_t>(all.size(), static_cast<std::size_t>(-*count));
  for (std::size_t i = first; i < end; ++i) {
    out_ << fmt::format("#{:<3}", i) << frame_summary(all[i], i > 0) << "\n";
    if (full) print_locals_of(all[i], "        ");
  }
  if (end < all.size()) out_ << "(More stack frames follow...)\n";
}

void Shell::cmd_frame(const std::string& args, int relative) {
  const auto& all = frames();
  std::int64_t target = selected_frame_;
  if (relative == 0 && !args.empty()) target = parse_number(args, "the frame number");
  if (relative != 0) target += relative * std::int64_t{args.empty() ? 1 : parse_number(args, "the frame count")};
  if (target < 0) throw Error("bottom (innermost) frame selected; you cannot go down");
  if (target >= static_cast<int>(all.size())) {
    if (relative == 0) throw Error(fmt::format("no frame at level {}", target));
    throw Error("initial frame selected; you cannot go up");
  }
  selected_frame_ = static_cast<int>(target);
  const Frame& f = frame();
  out_ << "#" << f.level << "  " << frame_summary(f, f.level > 0) << "\n";
  if (auto line = debug().frame_line(f)) {
    out_ << line->line << "\t" << debug().source_text(line->file, line->line).value_or("") << "\n";
    list_file_ = line->file;
    list_line_ = line->line;
  }
}

std::pair<std::string, int> Shell::source_position(const std::string& where) {
  if (where.find_first_not_of("0123456789") == std::string::npos)
    return {list_file_, static_cast<int>(parse_number(where, "the line number"))};
  std::string description;
  auto addrs = resolve_location(where, description);
  auto line = debug().line_at(addrs.front());
  if (!line) throw Error(fmt::format("no source for {}", where));
  return {line->file, line->line};
}

void Shell::cmd_list(const std::string& raw) {
  std::string args = trim(raw);
  int center = list_line_;
  std::string file = list_file_;
  // gdb's ranges: "list A,B", "list A," (ten from A), "list ,B" (ten up to B).
  std::optional<int> from, to;
  if (auto comma = args.find(','); comma != std::string::npos) {
    std::string a = trim(args.substr(0, comma)), b = trim(args.substr(comma + 1));
    if (a.empty() && b.empty()) throw Error("\"list ,\" needs a line on one side of the comma");
    if (!a.empty()) {
      auto [a_file, a_line] = source_position(a);
      file = a_file;
      from = a_line;
    }
    if (!b.empty()) {
      auto [b_file, b_line] = source_position(b);
      if (a.empty()) file = b_file;
      to = b_line;
    }
  } else if (!args.empty()) {
    std::tie(file, center) = source_position(args);
  } else if (last_command_ == "list") {
    center = list_line_ + list_size_;
  }
  if (file.empty()) throw Error("no source file to list here; name a function or FILE:LINE");
  // `set listsize` lines: around a line, from A, or up to B.
  int first = from ? *from : to ? std::max(1, *to - list_size_ + 1) : std::max(1, center - list_size_ / 2);
  // No file is that long, and `first + list_size_` must not overflow.
  if (first > std::numeric_limits<int>::max() - list_size_)
    throw Error(fmt::format("line number {} out of range; \"{}\" is shorter", first, file));
  int last = to ? *to : first + list_size_ - 1;
  if (last < first) throw Error(fmt::format("cannot list lines {} to {}: the range runs backward", first, last));
  int printed = 0;
  for (int line = first; line <= last; ++line) {
    auto text = debug().source_text(file, line);
    if (!text) break;
    out_ << line << "\t" << *text << "\n";
    ++printed;
  }
  if (!printed) throw Error(fmt::format("line number {} out of range; \"{}\" is shorter", first, file));
  list_file_ = file;
  // A "list" after this one goes on from the next line (its center is list_line_ + list_size_).
  list_line_ = last + 1 + list_size_ / 2 - list_size_;
  last_command_ = "list";
}

}  // namespace ttdb
