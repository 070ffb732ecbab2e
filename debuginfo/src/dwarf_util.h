// Small readers of DWARF entries that the debuginfo files share.
#pragma once

#include <dwarf.h>
#include <elfutils/libdw.h>

#include <optional>
#include <string>

namespace ttdb {

inline std::string die_name(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  if (!dwarf_attr_integrate(die, DW_AT_name, &attr)) return {};
  const char* s = dwarf_formstring(&attr);
  return s ? s : "";
}

inline std::optional<Dwarf_Word> die_udata(Dwarf_Die* die, unsigned name) {
  Dwarf_Attribute attr;
  Dwarf_Word value = 0;
  if (!dwarf_attr_integrate(die, name, &attr) || dwarf_formudata(&attr, &value) != 0) return std::nullopt;
  return value;
}

// The entry an inlined call, or a concrete copy of an inlined function's
// entry, stands for (DW_AT_abstract_origin).
inline std::optional<Dwarf_Die> abstract_origin(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  Dwarf_Die origin;
  if (!dwarf_attr(die, DW_AT_abstract_origin, &attr) || !dwarf_formref_die(&attr, &origin)) return std::nullopt;
  return origin;
}

template <class F>
void for_each_child(Dwarf_Die* parent, F&& f) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return;
  do f(&child);
  while (dwarf_siblingof(&child, &child) == 0);
}


// True for an entry of a C++ compile unit.
bool is_cplusplus(Dwarf_Die* die);

// Calls f on the entries of a compile unit and of the namespaces in it,
// where functions and globals are defined.
template <class F>
void for_each_definition(Dwarf_Die* scope, F&& f) {
  for_each_child(scope, [&](Dwarf_Die* die) {
    if (dwarf_tag(die) == DW_TAG_namespace) for_each_definition(die, f);
    else f(die);
  });
}

// A function's name as a user writes it in `break` ("Account::deposit"
// for "Account::deposit(int) const"): the demangled name without its
// parameters.
std::string without_parameters(const std::string& demangled);

// A C++ entity's name with its namespaces and classes ("std::vector<int>",
// "Account::deposit"): the scopes around its declaration.
std::string qualified_name(Dwarf_Die* die);
// A C++ function name as gdb writes it: template arguments spelled as C++
// spells them ("twice<long>" for GCC's "twice<long int>").
std::string canonical_cxx_name(std::string name);

// An entity's name as gdb shows it: qualified in C++, plain in C.
std::string shown_name(Dwarf_Die* die);

// A C++ linkage name demangled ("Account::deposit(int)"); `mangled` itself
// when it is not one.
std::string demangle(const char* mangled);

}  // namespace ttdb
