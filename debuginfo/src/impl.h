// DebugInfo's state, shared by the files that answer its questions: the
// modules (libdwfl), indexes built on first use, and the DWARF walks they
// all start from.
#pragma once

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ttdb/base/error.h"
#include "ttdb/debuginfo/debuginfo.h"
#include "dwarf_types.h"
#include "dwarf_util.h"
#include "location.h"

namespace ttdb {

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
  mutable DwarfTypes types_of_dies;
  mutable std::map<std::string, std::vector<std::string>> sources;

  Impl() {
    callbacks.find_elf = dwfl_linux_proc_find_elf;
    callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
    dwfl = dwfl_begin(&callbacks);
    if (!dwfl) fail("cannot start reading debug information: {}", dwfl_errmsg(-1));
  }
  ~Impl() {
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
      for_each_definition(cu, [&](Dwarf_Die* die) {
        std::string name = die_name(die);
        if (name.empty()) return;
        // C++ names its types without a keyword, and with their scopes.
        if (is_cplusplus(die) && dwarf_tag(die) != DW_TAG_variable && dwarf_tag(die) != DW_TAG_subprogram &&
            !dwarf_hasattr(die, DW_AT_declaration)) {
          types.emplace(qualified_name(die), Found{*die, bias});
          if (dwarf_tag(die) == DW_TAG_base_type) return;
        }
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

  // The scopes around a pc, innermost first, as the code lies: blocks, the
  // inlined calls it is in, the function that holds them, namespaces, the
  // compile unit. (libdw's dwarf_getscopes follows an inlined call to where
  // its function was declared instead, and so loses the function the code
  // is in.) A frame of the stack is one of the inlined calls or the
  // function; its `inline_depth` counts the inlined calls inside it.
  struct Scopes {
    std::vector<Dwarf_Die> dies;
    Dwarf_Addr bias = 0;
    // The function the code is in, if any.
    Dwarf_Die* function() {
      for (auto& die : dies)
        if (dwarf_tag(&die) == DW_TAG_subprogram) return &die;
      return nullptr;
    }
    // The inlined calls around the pc, innermost first.
    std::vector<Dwarf_Die*> inlined() {
      std::vector<Dwarf_Die*> out;
      for (auto& die : dies) {
        if (dwarf_tag(&die) == DW_TAG_subprogram) break;
        if (dwarf_tag(&die) == DW_TAG_inlined_subroutine) out.push_back(&die);
      }
      return out;
    }
    // What the frame `depth` calls out sees: its own blocks up to its
    // inlined call (or function), then what holds the function.
    std::vector<Dwarf_Die*> of_frame(int depth) {
      std::vector<Dwarf_Die*> out;
      std::size_t i = 0;
      for (int passed = 0; i < dies.size() && passed < depth; ++i)
        if (dwarf_tag(&dies[i]) == DW_TAG_inlined_subroutine) ++passed;
      for (; i < dies.size(); ++i) {
        out.push_back(&dies[i]);
        int tag = dwarf_tag(&dies[i]);
        if (tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram) break;
      }
      Dwarf_Die* outer = function();
      for (auto& die : dies)
        if (outer && &die > outer) out.push_back(&die);
      return out;
    }
    // The inlined call or function the frame `depth` calls out is of.
    Dwarf_Die* frame_function(int depth) {
      auto inlined_calls = inlined();
      if (depth < static_cast<int>(inlined_calls.size())) return inlined_calls[static_cast<std::size_t>(depth)];
      return function();
    }
  };

  // Down from `parent` through the scopes that hold `pc`. With
  // `everywhere`, also through the functions and classes that do not: a
  // function defined inside a class inside another function (a lambda's
  // call operator) lies outside the code of what holds it.
  static bool descend(Dwarf_Die* parent, Dwarf_Addr pc, std::vector<Dwarf_Die>& chain, bool everywhere = false) {
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0) return false;
    do {
      switch (dwarf_tag(&child)) {
        case DW_TAG_namespace:
          chain.push_back(child);
          if (descend(&child, pc, chain, everywhere)) return true;
          chain.pop_back();
          break;
        case DW_TAG_subprogram:
        case DW_TAG_lexical_block:
        case DW_TAG_inlined_subroutine:
        case DW_TAG_try_block:
        case DW_TAG_catch_block:
          if (dwarf_haspc(&child, pc) == 1) {
            chain.push_back(child);
            descend(&child, pc, chain);
            return true;
          }
          if (everywhere && descend(&child, pc, chain, true)) return true;
          break;
        case DW_TAG_class_type:
        case DW_TAG_structure_type:
        case DW_TAG_union_type:
          if (everywhere && descend(&child, pc, chain, true)) return true;
          break;
        default: break;
      }
    } while (dwarf_siblingof(&child, &child) == 0);
    return false;
  }

  // Each inlined copy of the functions `named` accepts (inlined.cc).
  std::vector<Function> inlined_copies(const std::function<bool(Dwarf_Die*)>& named) const;

  mutable std::map<std::uint64_t, Scopes> scopes_cache;
  Scopes scopes_at(std::uint64_t pc) const {
    if (auto hit = scopes_cache.find(pc); hit != scopes_cache.end()) return hit->second;
    Scopes out;
    Dwfl_Module* mod = dwfl_addrmodule(dwfl, pc);
    if (!mod) return out;
    Dwarf_Die* cu = dwfl_module_addrdie(mod, pc, &out.bias);
    if (!cu) return out;
    // The code's nesting first; only a function found nowhere on it costs
    // a look through everything.
    for (bool everywhere : {false, true}) {
      out.dies.clear();
      descend(cu, pc - out.bias, out.dies, everywhere);
      std::reverse(out.dies.begin(), out.dies.end());
      out.dies.push_back(*cu);
      if (out.function()) break;
    }
    if (scopes_cache.size() > 4096) scopes_cache.clear();
    scopes_cache.emplace(pc, out);
    return out;
  }

  LocationContext location_context(const Frame* frame, const Frame* caller, Dwarf_Addr bias, Dwarf_Die* function) const {
    LocationContext context{frame, bias, nullptr, nullptr};
    if (function && frame) context.frame_base = [=, this] { return frame_base(function, frame, bias); };
    if (caller) context.entry_value = [=, this](int regno) { return entry_value(caller, regno); };
    return context;
  }

  std::optional<std::uint64_t> frame_base(Dwarf_Die* function, const Frame* frame, Dwarf_Addr bias) const {
    Dwarf_Attribute attr;
    if (!dwarf_attr_integrate(function, DW_AT_frame_base, &attr)) return std::nullopt;
    Dwarf_Op* expr = nullptr;
    std::size_t len = 0;
    if (dwarf_getlocation_addr(&attr, frame->lookup_pc() - bias, &expr, &len, 1) != 1) return std::nullopt;
    Located base = evaluate_location(&attr, expr, len, LocationContext{frame, bias, nullptr, nullptr});
    if (base.where == Variable::Where::memory) return base.addr;
    if (base.where == Variable::Where::register_ && frame->known[static_cast<std::size_t>(base.regno)])
      return frame->regs[static_cast<std::size_t>(base.regno)];
    return std::nullopt;
  }

  // What register `regno` held when `caller` made the call it is in: the
  // value its call site's DW_TAG_call_site_parameter gives, evaluated in
  // the caller (gdb's entry values, "n@entry").
  std::optional<std::uint64_t> entry_value(const Frame* caller, int regno) const {
    auto scopes = scopes_at(caller->lookup_pc());
    Dwarf_Die* function = scopes.function();
    if (!function) return std::nullopt;
    auto site = call_site(function, caller->pc - scopes.bias);
    if (!site) return std::nullopt;
    std::optional<std::uint64_t> found;
    for_each_child(&*site, [&](Dwarf_Die* param) {
      int tag = dwarf_tag(param);
      if (found || (tag != DW_TAG_call_site_parameter && tag != DW_TAG_GNU_call_site_parameter)) return;
      Dwarf_Attribute where, value;
      Dwarf_Op* ops = nullptr;
      std::size_t n = 0;
      if (!dwarf_attr(param, DW_AT_location, &where) || dwarf_getlocation(&where, &ops, &n) != 0 ||
          register_named(ops, n) != regno)
        return;
      if (!dwarf_attr(param, DW_AT_call_value, &value) && !dwarf_attr(param, DW_AT_GNU_call_site_value, &value)) return;
      if (dwarf_getlocation(&value, &ops, &n) != 0) return;
      Located v = evaluate_location(&value, ops, n, location_context(caller, nullptr, scopes.bias, function));
      if (v.where == Variable::Where::memory || v.where == Variable::Where::value) found = v.addr;
      if (v.where == Variable::Where::register_ && caller->known[static_cast<std::size_t>(v.regno)])
        found = caller->regs[static_cast<std::size_t>(v.regno)];
    });
    return found;
  }

  // The value a parameter had on entry, when it came in a register the call
  // site tells the value of.
  std::optional<std::uint64_t> entry_value_of(Dwarf_Attribute* location, const Frame* caller, Dwarf_Die* function) const {
    Dwarf_Addr low = 0;
    Dwarf_Op* expr = nullptr;
    std::size_t len = 0;
    if (!function || dwarf_lowpc(function, &low) != 0 || dwarf_getlocation_addr(location, low, &expr, &len, 1) != 1)
      return std::nullopt;
    auto regno = register_named(expr, len);
    return regno ? entry_value(caller, *regno) : std::nullopt;
  }

  // The call site in `scope` (or the blocks inside it) that returns to `return_pc`.
  static std::optional<Dwarf_Die> call_site(Dwarf_Die* scope, Dwarf_Addr return_pc) {
    std::optional<Dwarf_Die> found;
    for_each_child(scope, [&](Dwarf_Die* child) {
      if (found) return;
      int tag = dwarf_tag(child);
      if (tag == DW_TAG_call_site || tag == DW_TAG_GNU_call_site) {
        Dwarf_Attribute attr;
        Dwarf_Addr addr = 0;
        if ((dwarf_attr(child, DW_AT_call_return_pc, &attr) || dwarf_attr(child, DW_AT_low_pc, &attr)) &&
            dwarf_formaddr(&attr, &addr) == 0 && addr == return_pc)
          found = *child;
      } else if (tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine) {
        found = call_site(child, return_pc);
      }
    });
    return found;
  }

  Variable variable(Dwarf_Die* die, const Frame* frame, Dwarf_Addr bias, Dwarf_Die* function,
                    const Frame* caller = nullptr) const {
    Variable v;
    v.name = die_name(die);
    v.type = types_of_dies.type_of(die);
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
    Located at = evaluate_location(&attr, expr, len, location_context(frame, caller, bias, function));
    if (v.is_argument && caller) v.entry_value = entry_value_of(&attr, caller, function);
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

}  // namespace ttdb
