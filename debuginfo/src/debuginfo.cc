#include "ttdb/debuginfo/debuginfo.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <sys/uio.h>
#include <sys/user.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "ttdb/base/error.h"

namespace ttdb {
namespace {

std::string read_whole(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string die_name(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  if (!dwarf_attr_integrate(die, DW_AT_name, &attr)) return {};
  const char* s = dwarf_formstring(&attr);
  return s ? s : "";
}

std::optional<Dwarf_Word> die_udata(Dwarf_Die* die, unsigned name) {
  Dwarf_Attribute attr;
  Dwarf_Word value = 0;
  if (!dwarf_attr_integrate(die, name, &attr) || dwarf_formudata(&attr, &value) != 0) return std::nullopt;
  return value;
}

bool file_matches(const std::string& compiled, const std::string& asked) {
  if (compiled == asked) return true;
  if (asked.find('/') == std::string::npos) {
    auto slash = compiled.rfind('/');
    return compiled.substr(slash == std::string::npos ? 0 : slash + 1) == asked;
  }
  return compiled.size() > asked.size() && compiled.ends_with(asked) && compiled[compiled.size() - asked.size() - 1] == '/';
}

template <class F>
void for_each_child(Dwarf_Die* parent, F&& f) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return;
  do f(&child);
  while (dwarf_siblingof(&child, &child) == 0);
}

// A DWARF location, evaluated for one frame.
struct Located {
  Variable::Where where = Variable::Where::optimized_out;
  std::uint64_t addr = 0;
  int regno = 0;
};

}  // namespace

struct DebugInfo::Impl {
  Dwfl_Callbacks callbacks{};
  Dwfl* dwfl = nullptr;
  bool reported = false;  // modules are reported once, on first use
  bool attached = false;  // dwfl_attach_state done
  // Indexes built on first use, per module set.
  mutable bool indexed = false;
  struct Found {
    Dwarf_Die die;
    Dwarf_Addr bias;
  };
  mutable std::multimap<std::string, Found> globals, types;
  mutable std::map<std::pair<Dwarf*, Dwarf_Off>, std::shared_ptr<Type>> type_cache;
  mutable std::map<std::string, std::vector<std::string>> sources;

  Impl() {
    callbacks.find_elf = dwfl_linux_proc_find_elf;
    callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
    dwfl = dwfl_begin(&callbacks);
    if (!dwfl) fail("cannot start reading debug information: {}", dwfl_errmsg(-1));
  }
  ~Impl() {
    // Types refer to each other in cycles (a struct holding a pointer to
    // itself): break them, or they outlive the cache.
    for (auto& [key, type] : type_cache) {
      type->members.clear();
      type->params.clear();
      type->target.reset();
    }
    dwfl_end(dwfl);
  }

  template <class F>
  void for_each_module(F&& f) const {
    auto callback = [](Dwfl_Module* mod, void**, const char*, Dwarf_Addr, void* arg) -> int {
      (*static_cast<F*>(arg))(mod);
      return DWARF_CB_OK;
    };
    dwfl_getmodules(dwfl, callback, &f, 0);
  }

  template <class F>
  void for_each_cu(F&& f) const {
    for_each_module([&](Dwfl_Module* mod) {
      Dwarf_Addr bias = 0;
      Dwarf_Die* cu = nullptr;
      while ((cu = dwfl_module_nextcu(mod, cu, &bias))) f(cu, bias);
    });
  }

  void index() const {
    if (indexed) return;
    indexed = true;
    for_each_cu([&](Dwarf_Die* cu, Dwarf_Addr bias) {
      for_each_child(cu, [&](Dwarf_Die* die) {
        std::string name = die_name(die);
        if (name.empty()) return;
        switch (dwarf_tag(die)) {
          case DW_TAG_variable:
            if (dwarf_hasattr(die, DW_AT_location)) globals.emplace(name, Found{*die, bias});
            break;
          case DW_TAG_structure_type: types.emplace("struct " + name, Found{*die, bias}); break;
          case DW_TAG_union_type: types.emplace("union " + name, Found{*die, bias}); break;
          case DW_TAG_enumeration_type: types.emplace("enum " + name, Found{*die, bias}); break;
          case DW_TAG_typedef:
          case DW_TAG_base_type: types.emplace(name, Found{*die, bias}); break;
          default: break;
        }
      });
    });
  }

  // The compile unit holding `pc`, and the scopes around it, innermost first.
  struct Scopes {
    std::vector<Dwarf_Die> dies;
    Dwarf_Addr bias = 0;
    // The innermost function around the pc, if any.
    Dwarf_Die* function() {
      for (auto& die : dies)
        if (dwarf_tag(&die) == DW_TAG_subprogram) return &die;
      return nullptr;
    }
  };
  Scopes scopes_at(std::uint64_t pc) const {
    Scopes out;
    Dwfl_Module* mod = dwfl_addrmodule(dwfl, pc);
    if (!mod) return out;
    Dwarf_Die* cu = dwfl_module_addrdie(mod, pc, &out.bias);
    if (!cu) return out;
    Dwarf_Die* scopes = nullptr;
    int n = dwarf_getscopes(cu, pc - out.bias, &scopes);
    for (int i = 0; i < n; ++i) out.dies.push_back(scopes[i]);
    free(scopes);  // NOLINT: libdw allocates with malloc
    return out;
  }

  TypeRef type_of(Dwarf_Die* die) const {
    Dwarf_Attribute attr;
    Dwarf_Die target;
    if (!dwarf_attr_integrate(die, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &target)) return void_type();
    return make_type(&target);
  }

  TypeRef make_type(Dwarf_Die* die) const {
    auto key = std::make_pair(dwarf_cu_getdwarf(die->cu), dwarf_dieoffset(die));
    if (auto it = type_cache.find(key); it != type_cache.end()) return it->second;
    auto t = std::make_shared<Type>();
    type_cache[key] = t;  // before the members: a struct may point to itself
    t->name = die_name(die);
    t->size = die_udata(die, DW_AT_byte_size).value_or(0);
    switch (dwarf_tag(die)) {
      case DW_TAG_base_type: {
        auto encoding = die_udata(die, DW_AT_encoding).value_or(0);
        switch (encoding) {
          case DW_ATE_boolean: t->kind = Type::Kind::boolean; break;
          case DW_ATE_float: t->kind = Type::Kind::floating; t->is_signed = true; break;
          case DW_ATE_signed_char: t->kind = Type::Kind::character; t->is_signed = true; break;
          case DW_ATE_unsigned_char: t->kind = Type::Kind::character; break;
          case DW_ATE_signed: t->kind = Type::Kind::integer; t->is_signed = true; break;
          default: t->kind = Type::Kind::integer; break;
        }
        if (t->kind == Type::Kind::character && t->size != 1) t->kind = Type::Kind::integer;
        break;
      }
      case DW_TAG_pointer_type:
      case DW_TAG_reference_type:
        t->kind = Type::Kind::pointer;
        t->size = 8;
        t->target = type_of(die);
        break;
      case DW_TAG_const_type:
      case DW_TAG_volatile_type:
      case DW_TAG_restrict_type:
      case DW_TAG_atomic_type:
        *t = *type_of(die);  // qualifiers change nothing a debugger reads
        break;
      case DW_TAG_typedef: {
        std::string name = t->name;
        *t = *type_of(die);
        if (t->is_scalar() || t->kind == Type::Kind::void_) t->name = name;
        break;
      }
      case DW_TAG_structure_type:
      case DW_TAG_class_type:
      case DW_TAG_union_type:
        t->kind = dwarf_tag(die) == DW_TAG_union_type ? Type::Kind::union_ : Type::Kind::structure;
        for_each_child(die, [&](Dwarf_Die* m) {
          if (dwarf_tag(m) != DW_TAG_member) return;
          Member member;
          member.name = die_name(m);
          member.type = type_of(m);
          member.offset = die_udata(m, DW_AT_data_member_location).value_or(0);
          if (auto bits = die_udata(m, DW_AT_bit_size)) {
            auto bit_offset = die_udata(m, DW_AT_data_bit_offset).value_or(0);
            member.bit_size = static_cast<int>(*bits);
            member.offset = bit_offset / 8;
            member.bit_offset = static_cast<int>(bit_offset % 8);
          }
          t->members.push_back(std::move(member));
        });
        break;
      case DW_TAG_array_type: {
        t->kind = Type::Kind::array;
        std::vector<std::uint64_t> dims;
        for_each_child(die, [&](Dwarf_Die* sub) {
          if (dwarf_tag(sub) != DW_TAG_subrange_type) return;
          if (auto count = die_udata(sub, DW_AT_count)) dims.push_back(*count);
          else if (auto upper = die_udata(sub, DW_AT_upper_bound)) dims.push_back(*upper + 1);
          else dims.push_back(0);
        });
        if (dims.empty()) dims.push_back(0);
        TypeRef element = type_of(die);
        // int a[2][3] is an array of 2 arrays of 3.
        for (std::size_t i = dims.size(); i-- > 1;) {
          auto inner = std::make_shared<Type>();
          inner->kind = Type::Kind::array;
          inner->target = element;
          inner->count = dims[i];
          inner->size = element->size * dims[i];
          element = inner;
        }
        t->target = element;
        t->count = dims[0];
        t->size = element->size * dims[0];
        break;
      }
      case DW_TAG_enumeration_type:
        t->kind = Type::Kind::enumeration;
        t->is_signed = true;
        for_each_child(die, [&](Dwarf_Die* e) {
          if (dwarf_tag(e) != DW_TAG_enumerator) return;
          Dwarf_Attribute attr;
          Dwarf_Sword value = 0;
          if (dwarf_attr(e, DW_AT_const_value, &attr)) dwarf_formsdata(&attr, &value);
          t->enumerators.emplace_back(die_name(e), value);
        });
        break;
      case DW_TAG_subroutine_type:
      case DW_TAG_subprogram:
        t->kind = Type::Kind::function;
        t->size = 1;
        t->target = type_of(die);
        if (t->target->kind == Type::Kind::void_) t->target = nullptr;
        for_each_child(die, [&](Dwarf_Die* p) {
          if (dwarf_tag(p) == DW_TAG_formal_parameter) t->params.push_back(type_of(p));
        });
        break;
      default: t->kind = Type::Kind::void_; break;
    }
    return t;
  }

  // Evaluates a location expression for `frame`; unsupported operations make
  // the variable "optimized out" rather than wrong.
  Located evaluate(const Dwarf_Op* ops, std::size_t n, const Frame* frame, Dwarf_Addr bias,
                   Dwarf_Die* function) const {
    std::vector<std::uint64_t> stack;
    auto reg = [&](unsigned r) -> std::optional<std::uint64_t> {
      if (!frame || r >= frame->regs.size() || !frame->known[r]) return std::nullopt;
      return frame->regs[r];
    };
    for (std::size_t i = 0; i < n; ++i) {
      const Dwarf_Op& op = ops[i];
      unsigned atom = op.atom;
      if (atom >= DW_OP_reg0 && atom <= DW_OP_reg31) return Located{Variable::Where::register_, 0, static_cast<int>(atom - DW_OP_reg0)};
      if (atom == DW_OP_regx) return Located{Variable::Where::register_, 0, static_cast<int>(op.number)};
      if (atom >= DW_OP_lit0 && atom <= DW_OP_lit31) {
        stack.push_back(atom - DW_OP_lit0);
        continue;
      }
      if (atom >= DW_OP_breg0 && atom <= DW_OP_breg31) {
        auto v = reg(atom - DW_OP_breg0);
        if (!v) return {};
        stack.push_back(*v + op.number);
        continue;
      }
      switch (atom) {
        case DW_OP_addr: stack.push_back(op.number + bias); break;
        case DW_OP_bregx: {
          auto v = reg(static_cast<unsigned>(op.number));
          if (!v) return {};
          stack.push_back(*v + op.number2);
          break;
        }
        case DW_OP_call_frame_cfa:
          if (!frame || !frame->cfa) return {};
          stack.push_back(frame->cfa);
          break;
        case DW_OP_fbreg: {
          auto base = frame_base(function, frame, bias);
          if (!base) return {};
          stack.push_back(*base + op.number);
          break;
        }
        case DW_OP_const1u: case DW_OP_const1s: case DW_OP_const2u: case DW_OP_const2s:
        case DW_OP_const4u: case DW_OP_const4s: case DW_OP_const8u: case DW_OP_const8s:
        case DW_OP_constu: case DW_OP_consts: stack.push_back(op.number); break;
        case DW_OP_plus_uconst:
          if (stack.empty()) return {};
          stack.back() += op.number;
          break;
        case DW_OP_plus:
        case DW_OP_minus: {
          if (stack.size() < 2) return {};
          auto b = stack.back();
          stack.pop_back();
          stack.back() = atom == DW_OP_plus ? stack.back() + b : stack.back() - b;
          break;
        }
        case DW_OP_stack_value:
          if (stack.empty()) return {};
          {
            Located v{Variable::Where::value, stack.back(), 0};
            return v;
          }
        default: return {};
      }
    }
    if (stack.empty()) return {};
    return Located{Variable::Where::memory, stack.back(), 0};
  }

  std::optional<std::uint64_t> frame_base(Dwarf_Die* function, const Frame* frame, Dwarf_Addr bias) const {
    if (!function || !frame) return std::nullopt;
    Dwarf_Attribute attr;
    if (!dwarf_attr_integrate(function, DW_AT_frame_base, &attr)) return std::nullopt;
    Dwarf_Op* expr = nullptr;
    std::size_t len = 0;
    if (dwarf_getlocation_addr(&attr, frame->lookup_pc() - bias, &expr, &len, 1) != 1) return std::nullopt;
    Located base = evaluate(expr, len, frame, bias, nullptr);
    if (base.where == Variable::Where::memory) return base.addr;
    if (base.where == Variable::Where::register_ && frame->known[static_cast<std::size_t>(base.regno)])
      return frame->regs[static_cast<std::size_t>(base.regno)];
    return std::nullopt;
  }

  Variable variable(Dwarf_Die* die, const Frame* frame, Dwarf_Addr bias, Dwarf_Die* function) const {
    Variable v;
    v.name = die_name(die);
    v.type = type_of(die);
    v.is_argument = dwarf_tag(die) == DW_TAG_formal_parameter;
    if (const char* file = dwarf_decl_file(die)) v.decl_file = file;
    dwarf_decl_line(die, &v.decl_line);
    Dwarf_Attribute attr;
    if (dwarf_attr_integrate(die, DW_AT_const_value, &attr)) {
      Dwarf_Sword value = 0;
      if (dwarf_formsdata(&attr, &value) == 0) {
        v.where = Variable::Where::value;
        v.value.resize(std::min<std::size_t>(8, std::max<std::size_t>(v.type->size, 1)));
        std::memcpy(v.value.data(), &value, v.value.size());
      }
      return v;
    }
    if (!dwarf_attr_integrate(die, DW_AT_location, &attr)) return v;
    Dwarf_Op* expr = nullptr;
    std::size_t len = 0;
    std::uint64_t pc = frame ? frame->lookup_pc() : 0;
    if (dwarf_getlocation_addr(&attr, pc - bias, &expr, &len, 1) != 1) return v;
    Located at = evaluate(expr, len, frame, bias, function);
    v.where = at.where;
    v.addr = at.addr;
    v.regno = at.regno;
    if (at.where == Variable::Where::value) {
      v.value.resize(std::min<std::size_t>(8, std::max<std::size_t>(v.type->size, 1)));
      std::memcpy(v.value.data(), &at.addr, v.value.size());
    }
    return v;
  }
};

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
    if (maps.find(" " + file.path + "\n") != std::string::npos) continue;  // /proc names it already
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
  GElf_Off offset = 0;
  GElf_Sym sym;
  const char* name = dwfl_module_addrinfo(mod, addr, &offset, &sym, nullptr, nullptr, nullptr);
  if (!name) return std::nullopt;
  return Symbol{name, addr - offset, offset};
}

std::optional<Function> DebugInfo::function_at(std::uint64_t pc) const {
  auto scopes = impl_->scopes_at(pc);
  Dwarf_Addr low = 0, high = 0;
  if (Dwarf_Die* die = scopes.function(); die && dwarf_lowpc(die, &low) == 0) {
    Function f;
    f.name = die_name(die);
    if (dwarf_highpc(die, &high) != 0) high = low + 1;
    f.low = low + scopes.bias;
    f.high = high + scopes.bias;
    auto rows = statement_starts(f.low, f.high);
    f.has_lines = !rows.empty();
    // gdb's rule: the second line of the function, or its second row when
    // it is all on one line.
    f.body = rows.size() > 1 ? rows[1].row_addr : f.low;
    for (const auto& row : rows)
      if (row.row_addr > f.low && row.line != rows.front().line) {
        f.body = row.row_addr;
        break;
      }
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

std::vector<Function> DebugInfo::functions_named(const std::string& name) const {
  std::vector<Function> out;
  std::set<std::uint64_t> seen;
  impl_->for_each_cu([&](Dwarf_Die* cu, Dwarf_Addr bias) {
    for_each_child(cu, [&](Dwarf_Die* die) {
      if (dwarf_tag(die) != DW_TAG_subprogram || die_name(die) != name) return;
      Dwarf_Addr low = 0;
      if (dwarf_lowpc(die, &low) != 0) return;
      if (auto f = function_at(low + bias); f && seen.insert(f->low).second) out.push_back(*f);
    });
  });
  // Functions without DWARF: the ELF symbol tables.
  impl_->for_each_module([&](Dwfl_Module* mod) {
    int n = dwfl_module_getsymtab(mod);
    for (int i = 1; i < n; ++i) {
      GElf_Sym sym;
      GElf_Addr addr = 0;
      const char* sym_name = dwfl_module_getsym_info(mod, i, &sym, &addr, nullptr, nullptr, nullptr);
      if (!sym_name || GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF) continue;
      std::string_view n_view(sym_name);
      if (n_view != name && !(n_view.starts_with(name) && n_view.substr(name.size()).starts_with("@"))) continue;
      if (!seen.insert(addr).second) continue;
      Function f;
      f.name = name;
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
    for_each_child(cu, [&](Dwarf_Die* die) {
      if (dwarf_tag(die) == DW_TAG_subprogram && dwarf_hasattr(die, DW_AT_low_pc)) names.insert(die_name(die));
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
  return SourceLine{file, lineno, addr, addr == pc};
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
  for (std::size_t i = 0; i < n; ++i) {
    Dwarf_Line* l = dwarf_onesrcline(lines, i);
    Dwarf_Addr addr = 0;
    bool stmt = false, end = false;
    int lineno = 0;
    dwarf_lineaddr(l, &addr);
    addr += bias;
    dwarf_linebeginstatement(l, &stmt);
    dwarf_lineendsequence(l, &end);
    dwarf_lineno(l, &lineno);
    if (addr < low || addr >= high || !stmt || end || lineno == 0) continue;
    const char* file = dwarf_linesrc(l, nullptr, nullptr);
    rows[addr] = SourceLine{file ? file : "", lineno, addr, true};
  }
  std::vector<SourceLine> out;
  for (auto& [addr, row] : rows) out.push_back(row);
  return out;
}

std::vector<std::uint64_t> DebugInfo::line_addresses(const std::string& file, int line) const {
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

std::vector<Variable> DebugInfo::arguments(const Frame& frame) const {
  std::vector<Variable> out;
  auto scopes = impl_->scopes_at(frame.lookup_pc());
  Dwarf_Die* function = scopes.function();
  if (!function) return out;
  for_each_child(function, [&](Dwarf_Die* child) {
    if (dwarf_tag(child) == DW_TAG_formal_parameter) out.push_back(impl_->variable(child, &frame, scopes.bias, function));
  });
  return out;
}

std::vector<Variable> DebugInfo::locals(const Frame& frame) const {
  std::vector<Variable> out;
  auto scopes = impl_->scopes_at(frame.lookup_pc());
  Dwarf_Die* function = scopes.function();
  for (auto& die : scopes.dies) {
    for_each_child(&die, [&](Dwarf_Die* child) {
      if (dwarf_tag(child) == DW_TAG_variable) out.push_back(impl_->variable(child, &frame, scopes.bias, function));
    });
    if (&die == function) break;
  }
  return out;
}

std::optional<Variable> DebugInfo::find_variable(const std::string& name, const Frame* frame) const {
  if (frame) {
    // Innermost scope first, as C's name lookup does.
    auto scopes = impl_->scopes_at(frame->lookup_pc());
    Dwarf_Die* function = scopes.function();
    for (auto& die : scopes.dies) {
      std::optional<Variable> found;
      for_each_child(&die, [&](Dwarf_Die* child) {
        int tag = dwarf_tag(child);
        if (!found && (tag == DW_TAG_variable || tag == DW_TAG_formal_parameter) && die_name(child) == name)
          found = impl_->variable(child, frame, scopes.bias, function);
      });
      if (found && found->where != Variable::Where::optimized_out) return found;
      if (found && dwarf_tag(&die) != DW_TAG_compile_unit) return found;
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
  TypeRef t = impl_->type_of(function);
  return t->kind == Type::Kind::void_ ? nullptr : t;
}

TypeRef DebugInfo::find_type(const std::string& name) const {
  if (auto base = base_type_named(name)) return base;
  impl_->index();
  auto it = impl_->types.find(name);
  if (it == impl_->types.end()) return nullptr;
  Dwarf_Die die = it->second.die;
  return impl_->make_type(&die);
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


// --- unwinding ---------------------------------------------------------------
// The stack's frames, by libdw's unwinder: it reads the stopped program's
// registers and memory through the callbacks below, and call frame
// information from the modules reported above, which include the libraries
// replay maps as anonymous memory (invisible to unwinders that look for
// files in /proc/PID/maps).
namespace {

// What the callbacks read: the stopped program of the current backtrace.
struct Target {
  pid_t pid = 0;
  const user_regs_struct* regs = nullptr;
};

// libdw sees one thread with this id, whichever process replays the program now.
constexpr pid_t kThread = 1;

pid_t next_thread(Dwfl*, void* arg, void** thread_arg) {
  if (*thread_arg) return 0;
  *thread_arg = arg;
  return kThread;
}

bool read_word(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result, void* arg) {
  auto* target = static_cast<Target*>(arg);
  iovec local{result, sizeof *result};
  iovec remote{reinterpret_cast<void*>(addr), sizeof *result};  // NOLINT: an address in another process
  return process_vm_readv(target->pid, &local, 1, &remote, 1, 0) == sizeof *result;
}

bool initial_registers(Dwfl_Thread* thread, void* arg) {
  const user_regs_struct& r = *static_cast<Target*>(arg)->regs;
  Dwarf_Word regs[17] = {r.rax, r.rdx, r.rcx, r.rbx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8,
                         r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip};
  return dwfl_thread_state_registers(thread, 0, 17, regs);
}

std::array<std::uint64_t, 17> dwarf_registers(const user_regs_struct& r) {
  return {r.rax, r.rdx, r.rcx, r.rbx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8,
          r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip};
}

const Dwfl_Thread_Callbacks kCallbacks = {next_thread, nullptr, read_word, initial_registers, nullptr, nullptr};

}  // namespace

std::vector<Frame> DebugInfo::backtrace(pid_t pid, const user_regs_struct& regs, std::size_t limit) const {
  std::vector<Frame> frames;
  Frame innermost;
  innermost.pc = regs.rip;
  innermost.regs = dwarf_registers(regs);
  innermost.known.fill(true);
  frames.push_back(innermost);

  static Target target;  // libdw keeps the callbacks' argument for the Dwfl's life
  target.pid = pid;
  target.regs = &regs;
  if (!impl_->attached) impl_->attached = dwfl_attach_state(impl_->dwfl, nullptr, kThread, &kCallbacks, &target);
  if (!impl_->attached) return frames;

  struct Walk {
    std::vector<Frame>* frames;
    std::size_t limit;
    bool seen_innermost = false;
  } walk{&frames, limit, false};
  auto on_frame = [](Dwfl_Frame* state, void* arg) -> int {
    auto& w = *static_cast<Walk*>(arg);
    if (w.frames->size() >= w.limit) return DWARF_CB_ABORT;
    Dwarf_Addr pc = 0;
    bool activation = false;
    if (!dwfl_frame_pc(state, &pc, &activation)) return DWARF_CB_ABORT;
    if (!w.seen_innermost) {  // frame 0: its registers are known exactly already
      w.seen_innermost = true;
      return DWARF_CB_OK;
    }
    Frame f;
    f.level = static_cast<int>(w.frames->size());
    f.pc = pc;
    f.exact_pc = activation;  // libdw's word for it
    f.regs[16] = pc;
    f.known[16] = true;
    for (unsigned r = 0; r < 16; ++r) {
      Dwarf_Word value = 0;
      if (dwfl_frame_reg(state, r, &value) == 0) {
        f.regs[r] = value;
        f.known[r] = true;
      }
    }
    if (!f.known[7] || pc == 0) return DWARF_CB_ABORT;
    if (f.regs[7] <= w.frames->back().regs[7] && w.frames->size() > 1) return DWARF_CB_ABORT;  // not going up
    w.frames->back().cfa = f.regs[7];  // a frame's CFA is its caller's stack pointer
    w.frames->push_back(f);
    return DWARF_CB_OK;
  };
  dwfl_getthread_frames(impl_->dwfl, kThread, on_frame, &walk);
  return frames;
}


}  // namespace ttdb
