#include "ttdb/debuginfo/debuginfo.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <sys/user.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "ttdb/base/error.h"
#include "dwarf_types.h"
#include "dwarf_util.h"
#include "impl.h"
#include "line_rows.h"
#include "location.h"
#include "plt.h"
#include "prologue.h"
#include "unwind.h"

namespace ttdb {
namespace {

std::string read_whole(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool file_matches(const std::string& compiled, const std::string& asked) {
  if (compiled == asked) return true;
  if (asked.find('/') == std::string::npos) {
    auto slash = compiled.rfind('/');
    return compiled.substr(slash == std::string::npos ? 0 : slash + 1) == asked;
  }
  return compiled.size() > asked.size() && compiled.ends_with(asked) && compiled[compiled.size() - asked.size() - 1] == '/';
}

// gdb reads an entry with an abstract origin (an inlined call, its blocks,
// an out-of-line copy) as its own children and those of the origin's that
// none of them stands for, which it shows as <optimized out>; a lexical
// block among those it reads as its contents. Calls f on those with `tag`.
template <class F>
void for_each_inherited(Dwarf_Die* die, int tag, F&& f) {
  auto origin = abstract_origin(die);
  if (!origin) return;
  std::set<Dwarf_Off> stood_for;
  for_each_child(die, [&](Dwarf_Die* child) {
    if (auto stands_for = abstract_origin(child)) stood_for.insert(dwarf_dieoffset(&*stands_for));
  });
  auto take = [&](auto& self, Dwarf_Die* parent, bool top) -> void {
    for_each_child(parent, [&](Dwarf_Die* child) {
      if (top && stood_for.count(dwarf_dieoffset(child))) return;
      if (dwarf_tag(child) == tag) f(child);
      else if (dwarf_tag(child) == DW_TAG_lexical_block && tag == DW_TAG_variable) self(self, child, false);
    });
  };
  take(take, &*origin, true);
}

}  // namespace

namespace {

// Whether /proc/PID/maps (`maps`) has a file mapped from `base` on.
bool names_a_file_at(const std::string& maps, std::uint64_t base) {
  std::istringstream lines(maps);
  std::string line;
  while (std::getline(lines, line)) {
    std::uint64_t start = std::strtoull(line.c_str(), nullptr, 16);
    if (start == base && line.find(" /") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

DebugInfo::DebugInfo() : impl_(std::make_unique<Impl>()) {}
DebugInfo::~DebugInfo() = default;

void DebugInfo::refresh(pid_t pid, const std::vector<KnownFile>& known) {
  // The program and its interpreter are in /proc/PID/maps from the exec on;
  // libraries come from `known`, for the whole recording at once. Replay maps
  // every other file anonymously, so one report serves the whole session.
  if (modules_reported()) return;
  impl_->reported = true;
  std::string maps = read_whole(fmt::format("/proc/{}/maps", pid));
  dwfl_report_begin(impl_->dwfl);
  dwfl_linux_proc_report(impl_->dwfl, pid);
  for (const auto& file : known) {
    if (names_a_file_at(maps, file.base)) continue;  // the file, or replay's copy of it
    auto slash = file.path.rfind('/');
    std::string name = slash == std::string::npos ? file.path : file.path.substr(slash + 1);
    // Files that are not ELF (locale archives, caches) are refused: fine.
    dwfl_report_elf(impl_->dwfl, name.c_str(), file.path.c_str(), -1, file.base, false);
  }
  dwfl_report_end(impl_->dwfl, nullptr, nullptr);
  impl_->indexed = false;
  impl_->globals.clear();
  impl_->types.clear();
}

namespace {

Module describe_module(Dwfl_Module* mod, bool with_debug_info) {
  Module m;
  Dwarf_Addr low = 0, high = 0;
  const char* name = dwfl_module_info(mod, nullptr, &low, &high, nullptr, nullptr, nullptr, nullptr);
  m.name = name ? name : "?";
  m.low = low;
  m.high = high;
  Dwarf_Addr bias = 0;
  // Looking for debug information reads the file (and its .debug twin).
  m.has_debug_info = with_debug_info && dwfl_module_getdwarf(mod, &bias) != nullptr;
  return m;
}

}  // namespace

std::vector<Module> DebugInfo::modules() const {
  std::vector<Module> out;
  impl_->for_each_module([&](Dwfl_Module* mod) { out.push_back(describe_module(mod, true)); });
  std::sort(out.begin(), out.end(), [](const Module& a, const Module& b) { return a.low < b.low; });
  return out;
}

std::optional<Module> DebugInfo::module_at(std::uint64_t addr) const {
  Dwfl_Module* mod = dwfl_addrmodule(impl_->dwfl, addr);
  if (!mod) return std::nullopt;
  return describe_module(mod, false);
}

bool DebugInfo::modules_reported() const { return impl_->reported; }

std::optional<Symbol> DebugInfo::symbol_at(std::uint64_t addr) const {
  Dwfl_Module* mod = dwfl_addrmodule(impl_->dwfl, addr);
  if (!mod) return std::nullopt;
  if (auto stub = plt_stub_at(mod, addr)) return Symbol{stub->name, stub->start, addr - stub->start};
  GElf_Off offset = 0;
  GElf_Sym sym;
  const char* name = dwfl_module_addrinfo(mod, addr, &offset, &sym, nullptr, nullptr, nullptr);
  if (!name) return std::nullopt;
  return Symbol{demangle(name), addr - offset, offset};
}

std::optional<Function> DebugInfo::function_at(std::uint64_t pc) const {
  auto scopes = impl_->scopes_at(pc);
  Dwarf_Addr low = 0, high = 0;
  if (Dwarf_Die* die = scopes.function(); die && dwarf_lowpc(die, &low) == 0) {
    Function f;
    f.name = shown_name(die);
    if (dwarf_highpc(die, &high) != 0) high = low + 1;
    f.low = low + scopes.bias;
    f.high = high + scopes.bias;
    f.has_lines = !statement_starts(f.low, f.high).empty();
    f.body = after_prologue(dwfl_addrmodule(impl_->dwfl, pc), f.low, f.high);
    return f;
  }
  auto sym = symbol_at(pc);
  if (!sym) return std::nullopt;
  Function f;
  f.name = sym->name;
  f.low = f.body = sym->addr;
  f.high = pc + 1;
  Dwfl_Module* mod = dwfl_addrmodule(impl_->dwfl, pc);
  GElf_Sym elf_sym;
  GElf_Off offset = 0;
  if (mod && dwfl_module_addrinfo(mod, pc, &offset, &elf_sym, nullptr, nullptr, nullptr) && elf_sym.st_size)
    f.high = f.low + elf_sym.st_size;
  return f;
}

std::vector<Function> DebugInfo::functions_named(const std::string& asked) const {
  const std::string name = canonical_cxx_name(asked);
  std::vector<Function> out;
  std::set<std::uint64_t> seen;
  // C++ names match by their last components, as in gdb: "deposit" and
  // "Account::deposit" both name Account::deposit.
  auto matches = [&](const std::string& candidate) { return names_function(candidate, name); };
  impl_->for_each_cu([&](Dwarf_Die* cu, Dwarf_Addr bias) {
    for_each_definition(cu, [&](Dwarf_Die* die) {
      if (dwarf_tag(die) != DW_TAG_subprogram) return;
      if (die_name(die) != name && !(is_cplusplus(die) && matches(qualified_name(die)))) return;
      Dwarf_Addr low = 0;
      if (dwarf_lowpc(die, &low) != 0) return;
      if (auto f = function_at(low + bias); f && seen.insert(f->low).second) out.push_back(*f);
    });
  });
  for (const auto& copy : impl_->inlined_copies([&](Dwarf_Die* die) {
         return die_name(die) == name || (is_cplusplus(die) && matches(qualified_name(die)));
       }))
    if (seen.insert(copy.low).second) out.push_back(copy);
  // Functions without DWARF: the ELF symbol tables.
  impl_->for_each_module([&](Dwfl_Module* mod) {
    int n = dwfl_module_getsymtab(mod);
    for (int i = 1; i < n; ++i) {
      GElf_Sym sym;
      GElf_Addr addr = 0;
      const char* sym_name = dwfl_module_getsym_info(mod, i, &sym, &addr, nullptr, nullptr, nullptr);
      if (!sym_name || GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF) continue;
      std::string_view n_view(sym_name);
      bool plain = n_view == name || (n_view.starts_with(name) && n_view.substr(name.size()).starts_with("@"));
      if (!plain && !(n_view.starts_with("_Z") && matches(without_parameters(demangle(sym_name))))) continue;
      if (!seen.insert(addr).second) continue;
      Function f;
      f.name = plain ? name : demangle(sym_name);
      f.low = f.body = addr;
      f.high = addr + std::max<GElf_Xword>(sym.st_size, 1);
      out.push_back(f);
    }
  });
  std::stable_sort(out.begin(), out.end(), [](const Function& a, const Function& b) { return a.has_lines > b.has_lines; });
  return out;
}

std::vector<std::string> DebugInfo::function_names() const {
  std::set<std::string> names;
  impl_->for_each_cu([&](Dwarf_Die* cu, Dwarf_Addr) {
    for_each_definition(cu, [&](Dwarf_Die* die) {
      if (dwarf_tag(die) != DW_TAG_subprogram || !dwarf_hasattr(die, DW_AT_low_pc)) return;
      names.insert(die_name(die));
      if (is_cplusplus(die)) names.insert(qualified_name(die));
    });
  });
  impl_->index();
  for (const auto& [name, found] : impl_->globals) names.insert(name);
  names.erase("");
  return {names.begin(), names.end()};
}

std::optional<SourceLine> DebugInfo::line_at(std::uint64_t pc) const {
  Dwfl_Module* mod = dwfl_addrmodule(impl_->dwfl, pc);
  if (!mod) return std::nullopt;
  Dwfl_Line* line = dwfl_module_getsrc(mod, pc);
  if (!line) return std::nullopt;
  Dwarf_Addr addr = 0;
  int lineno = 0;
  const char* file = dwfl_lineinfo(line, &addr, &lineno, nullptr, nullptr, nullptr);
  if (!file || lineno == 0) return std::nullopt;
  // A row gdb folds into the one before it is the middle of that row.
  Dwarf_Addr bias = 0;
  Dwarf_Die* cu = dwfl_module_addrdie(mod, pc, &bias);
  Dwarf_Lines* lines = nullptr;
  std::size_t n = 0;
  bool statement = true;
  if (cu && dwarf_getsrclines(cu, &lines, &n) == 0)
    if (auto i = row_starting_at(lines, n, addr - bias)) {
      // Of several rows at one address, gdb keeps the last statement.
      std::size_t chosen = *i;
      statement = false;
      for (std::size_t j = *i + 1; j-- > 0;) {
        Dwarf_Line* row = dwarf_onesrcline(lines, j);
        Dwarf_Addr at = 0;
        bool stmt = false;
        dwarf_lineaddr(row, &at);
        if (at + bias != addr) break;
        dwarf_linebeginstatement(row, &stmt);
        if (stmt) {
          chosen = j;
          statement = true;
          break;
        }
      }
      if (chosen != *i) {
        Dwarf_Line* row = dwarf_onesrcline(lines, chosen);
        dwarf_lineno(row, &lineno);
        if (const char* src = dwarf_linesrc(row, nullptr, nullptr)) file = src;
      }
      std::size_t kept = chosen;
      while (kept > 0 && folded_into_previous_row(lines, kept)) --kept;
      Dwarf_Addr start = 0;
      dwarf_lineaddr(dwarf_onesrcline(lines, kept), &start);
      addr = start + bias;
    }
  return SourceLine{file, lineno, addr, addr == pc, statement};
}

std::optional<std::string> DebugInfo::language_at(std::uint64_t pc) const {
  auto scopes = impl_->scopes_at(pc);
  if (scopes.dies.empty()) return std::nullopt;
  switch (dwarf_srclang(&scopes.dies.back())) {
    case DW_LANG_C89: case DW_LANG_C: case DW_LANG_C99: case DW_LANG_C11: return "c";
    case DW_LANG_C_plus_plus: case DW_LANG_C_plus_plus_03: case DW_LANG_C_plus_plus_11: case DW_LANG_C_plus_plus_14: return "c++";
    case DW_LANG_Mips_Assembler: return "asm";
    default: return std::nullopt;
  }
}

std::vector<SourceLine> DebugInfo::statement_starts(std::uint64_t low, std::uint64_t high) const {
  std::map<std::uint64_t, SourceLine> rows;
  Dwfl_Module* mod = dwfl_addrmodule(impl_->dwfl, low);
  if (!mod) return {};
  Dwarf_Addr bias = 0;
  Dwarf_Die* cu = dwfl_module_addrdie(mod, low, &bias);
  Dwarf_Lines* lines = nullptr;
  std::size_t n = 0;
  if (!cu || dwarf_getsrclines(cu, &lines, &n) != 0) return {};
  RowFolding folding;
  for (std::size_t i = 0; i < n; ++i) {
    Dwarf_Line* l = dwarf_onesrcline(lines, i);
    bool folded = folding.folds(l);
    Dwarf_Addr addr = 0;
    bool stmt = false, end = false;
    int lineno = 0;
    dwarf_lineaddr(l, &addr);
    addr += bias;
    dwarf_linebeginstatement(l, &stmt);
    dwarf_lineendsequence(l, &end);
    dwarf_lineno(l, &lineno);
    if (addr < low || addr >= high || !stmt || end || lineno == 0 || folded) continue;
    const char* file = dwarf_linesrc(l, nullptr, nullptr);
    rows[addr] = SourceLine{file ? file : "", lineno, addr, true};
  }
  std::vector<SourceLine> out;
  for (auto& [addr, row] : rows) out.push_back(row);
  return out;
}

std::vector<std::uint64_t> DebugInfo::line_addresses(const std::string& file, int line, int* found) const {
  // Rows of the file, then the first line at or after `line` that has any.
  struct Row {
    int line;
    std::uint64_t addr;
  };
  std::vector<Row> rows;
  impl_->for_each_cu([&](Dwarf_Die* cu, Dwarf_Addr bias) {
    Dwarf_Lines* lines = nullptr;
    std::size_t n = 0;
    if (dwarf_getsrclines(cu, &lines, &n) != 0) return;
    for (std::size_t i = 0; i < n; ++i) {
      Dwarf_Line* l = dwarf_onesrcline(lines, i);
      bool stmt = false, end = false;
      dwarf_linebeginstatement(l, &stmt);
      dwarf_lineendsequence(l, &end);
      const char* src = dwarf_linesrc(l, nullptr, nullptr);
      if (!stmt || end || !src || !file_matches(src, file)) continue;
      int lineno = 0;
      Dwarf_Addr addr = 0;
      dwarf_lineno(l, &lineno);
      dwarf_lineaddr(l, &addr);
      if (lineno >= line) rows.push_back(Row{lineno, addr + bias});
    }
  });
  if (rows.empty()) return {};
  int best = std::min_element(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.line < b.line; })->line;
  if (found) *found = best;
  // One address per function: the line's lowest.
  std::map<std::uint64_t, std::uint64_t> by_function;
  for (const auto& r : rows) {
    if (r.line != best) continue;
    auto f = function_at(r.addr);
    std::uint64_t key = f ? f->low : r.addr;
    auto [it, fresh] = by_function.emplace(key, r.addr);
    if (!fresh) it->second = std::min(it->second, r.addr);
  }
  std::vector<std::uint64_t> out;
  for (auto& [f, addr] : by_function) out.push_back(addr);
  return out;
}

std::vector<Variable> DebugInfo::arguments(const Frame& frame, const Frame* caller) const {
  std::vector<Variable> out;
  auto scopes = impl_->scopes_at(frame.lookup_pc());
  Dwarf_Die* function = scopes.function();
  Dwarf_Die* own = scopes.frame_function(frame.inline_depth);
  if (!function || !own) return out;
  // An inlined call has no call site of its own to tell entry values.
  if (own != function) caller = nullptr;
  auto add = [&](Dwarf_Die* child) { out.push_back(impl_->variable(child, &frame, scopes.bias, function, caller)); };
  for_each_child(own, [&](Dwarf_Die* child) {
    if (dwarf_tag(child) == DW_TAG_formal_parameter) add(child);
  });
  for_each_inherited(own, DW_TAG_formal_parameter, add);
  return out;
}

std::vector<Variable> DebugInfo::locals(const Frame& frame, const Frame* caller) const {
  std::vector<Variable> out;
  auto scopes = impl_->scopes_at(frame.lookup_pc());
  Dwarf_Die* function = scopes.function();
  Dwarf_Die* own = scopes.frame_function(frame.inline_depth);
  auto add = [&](Dwarf_Die* child) { out.push_back(impl_->variable(child, &frame, scopes.bias, function, caller)); };
  for (Dwarf_Die* die : scopes.of_frame(frame.inline_depth)) {
    for_each_child(die, [&](Dwarf_Die* child) {
      if (dwarf_tag(child) == DW_TAG_variable) add(child);
    });
    for_each_inherited(die, DW_TAG_variable, add);
    if (die == own) break;
  }
  return out;
}

std::optional<Variable> DebugInfo::find_variable(const std::string& name, const Frame* frame, const Frame* caller) const {
  if (frame) {
    // Innermost scope first, as C's name lookup does.
    auto scopes = impl_->scopes_at(frame->lookup_pc());
    Dwarf_Die* function = scopes.function();
    if (scopes.frame_function(frame->inline_depth) != function) caller = nullptr;
    for (Dwarf_Die* die : scopes.of_frame(frame->inline_depth)) {
      std::optional<Variable> found;
      for_each_child(die, [&](Dwarf_Die* child) {
        int tag = dwarf_tag(child);
        if (!found && (tag == DW_TAG_variable || tag == DW_TAG_formal_parameter) && die_name(child) == name)
          found = impl_->variable(child, frame, scopes.bias, function, caller);
      });
      if (found && found->where != Variable::Where::optimized_out) return found;
      if (found && dwarf_tag(die) != DW_TAG_compile_unit) return found;
    }
  }
  impl_->index();
  auto [first, last] = impl_->globals.equal_range(name);
  for (auto it = first; it != last; ++it) {
    auto v = impl_->variable(&it->second.die, nullptr, it->second.bias, nullptr);
    if (v.where != Variable::Where::optimized_out) return v;
  }
  return std::nullopt;
}

TypeRef DebugInfo::return_type(std::uint64_t pc) const {
  auto scopes = impl_->scopes_at(pc);
  Dwarf_Die* function = scopes.function();
  if (!function) return nullptr;
  TypeRef t = impl_->types_of_dies.type_of(function);
  return t->kind == Type::Kind::void_ ? nullptr : t;
}

std::vector<DebugInfo::Declaration> DebugInfo::declarations(DeclarationKind kind,
                                                           const std::function<bool(const std::string&)>& matches) const {
  std::vector<Declaration> out;
  std::set<std::tuple<std::string, int, std::string>> seen;
  impl_->for_each_cu([&](Dwarf_Die* cu, Dwarf_Addr) {
    for_each_definition(cu, [&](Dwarf_Die* die) {
      int tag = dwarf_tag(die);
      bool wanted = kind == DeclarationKind::function ? tag == DW_TAG_subprogram && dwarf_hasattr(die, DW_AT_low_pc)
                    : kind == DeclarationKind::variable
                        ? tag == DW_TAG_variable && !dwarf_hasattr(die, DW_AT_declaration) && dwarf_hasattr(die, DW_AT_location)
                        : (tag == DW_TAG_structure_type || tag == DW_TAG_union_type || tag == DW_TAG_enumeration_type ||
                           tag == DW_TAG_typedef || tag == DW_TAG_class_type) &&
                              !dwarf_hasattr(die, DW_AT_declaration);
      if (!wanted) return;
      std::string name = shown_name(die);
      int line = 0;
      const char* file = dwarf_decl_file(die);
      dwarf_decl_line(die, &line);
      if (name.empty() || !file || !matches(name)) return;
      std::string text;
      if (kind == DeclarationKind::type) {
        TypeRef t = impl_->types_of_dies.make(die);
        text = tag == DW_TAG_typedef ? "typedef " + impl_->types_of_dies.type_of(die)->declaration(name) + ";"
                                     : t->display() + ";";
      } else {
        bool external = dwarf_hasattr(die, DW_AT_external);
        TypeRef t = kind == DeclarationKind::function ? impl_->types_of_dies.make(die) : impl_->types_of_dies.type_of(die);
        text = (external ? "" : "static ") + t->declaration(name) + ";";
      }
      if (seen.insert({file, line, text}).second) out.push_back(Declaration{file, line, name, text});
    });
  });
  std::sort(out.begin(), out.end(), [](const Declaration& a, const Declaration& b) {
    return std::tie(a.file, a.name, a.line) < std::tie(b.file, b.name, b.line);
  });
  return out;
}

std::vector<Symbol> DebugInfo::plain_symbols(bool functions, const std::function<bool(const std::string&)>& matches) const {
  std::map<std::uint64_t, std::string> found;
  impl_->for_each_module([&](Dwfl_Module* mod) {
    int count = dwfl_module_getsymtab(mod);
    for (int i = 1; i < count; ++i) {
      GElf_Sym sym;
      GElf_Addr addr = 0;
      const char* name = dwfl_module_getsym_info(mod, i, &sym, &addr, nullptr, nullptr, nullptr);
      if (!name || !*name || sym.st_shndx == SHN_UNDEF) continue;
      int type = GELF_ST_TYPE(sym.st_info);
      if (functions ? type != STT_FUNC && type != STT_GNU_IFUNC : type != STT_OBJECT && type != STT_TLS) continue;
      std::string shown = demangle(name);
      if (!matches(shown)) continue;
      // Covered by debug information: listed with its declaration instead.
      if (functions && impl_->scopes_at(addr).function()) continue;
      found.emplace(addr, shown);
    }
  });
  std::vector<Symbol> out;
  for (const auto& [addr, name] : found) out.push_back(Symbol{name, addr, 0});
  return out;
}

TypeRef DebugInfo::function_type(std::uint64_t pc) const {
  auto scopes = impl_->scopes_at(pc);
  Dwarf_Die* function = scopes.function();
  return function ? impl_->types_of_dies.make(function) : nullptr;
}

TypeRef DebugInfo::find_type(const std::string& name) const {
  if (auto base = base_type_named(name)) return base;
  impl_->index();
  auto it = impl_->types.find(name);
  if (it == impl_->types.end()) return nullptr;
  Dwarf_Die die = it->second.die;
  return impl_->types_of_dies.make(&die);
}

std::optional<std::string> DebugInfo::source_text(const std::string& file, int line) const {
  auto it = impl_->sources.find(file);
  if (it == impl_->sources.end()) {
    std::ifstream in(file);
    if (!in) return std::nullopt;
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    it = impl_->sources.emplace(file, std::move(lines)).first;
  }
  if (line < 1 || static_cast<std::size_t>(line) > it->second.size()) return std::nullopt;
  return it->second[static_cast<std::size_t>(line - 1)];
}

std::vector<Frame> DebugInfo::backtrace(pid_t pid, const user_regs_struct& regs, std::size_t limit) const {
  return unwind(impl_->dwfl, impl_->attached, pid, regs, limit);
}

}  // namespace ttdb
