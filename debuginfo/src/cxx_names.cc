// C++ names: qualified from the scopes DWARF nests an entity in, and
// demangled linkage names.
#include <cxxabi.h>

#include <cctype>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "dwarf_util.h"
#include "ttdb/debuginfo/debuginfo.h"

namespace ttdb {

bool is_cplusplus(Dwarf_Die* die) {
  Dwarf_Die cu;
  if (!dwarf_diecu(die, &cu, nullptr, nullptr)) return false;
  int lang = dwarf_srclang(&cu);
  return lang == DW_LANG_C_plus_plus || lang == DW_LANG_C_plus_plus_03 || lang == DW_LANG_C_plus_plus_11 ||
         lang == DW_LANG_C_plus_plus_14;
}

std::string without_parameters(const std::string& demangled) {
  // The parameter list is the first '(' outside template brackets
  // ("operator()" keeps its own).
  int depth = 0;
  for (std::size_t i = 0; i < demangled.size(); ++i) {
    char c = demangled[i];
    if (c == '<') ++depth;
    if (c == '>' && depth > 0) --depth;
    if (c == '(' && depth == 0 && !(i >= 8 && demangled.compare(i - 8, 8, "operator") == 0)) return demangled.substr(0, i);
  }
  return demangled;
}

std::string canonical_cxx_name(std::string name) {
  // gdb writes template arguments as C++ spells them, where GCC's names
  // spell integer types out ("twice<long int>" is "twice<long>").
  static const std::pair<std::string_view, std::string_view> kSpellings[] = {
      {"long long unsigned int", "unsigned long long"}, {"long unsigned int", "unsigned long"},
      {"short unsigned int", "unsigned short"},         {"long long int", "long long"},
      {"long int", "long"},                             {"short int", "short"},
  };
  auto open = name.find('<');
  if (open == std::string::npos) return name;
  for (const auto& [gcc, cxx] : kSpellings)
    for (auto at = name.find(gcc, open); at != std::string::npos; at = name.find(gcc, at + cxx.size())) {
      bool word_start = at == 0 || !(std::isalnum(static_cast<unsigned char>(name[at - 1])) || name[at - 1] == '_');
      std::size_t end = at + gcc.size();
      bool word_end = end == name.size() || !(std::isalnum(static_cast<unsigned char>(name[end])) || name[end] == '_');
      if (word_start && word_end) name.replace(at, gcc.size(), cxx);
      else at += 1;
    }
  return name;
}

std::string shown_name(Dwarf_Die* die) { return is_cplusplus(die) ? qualified_name(die) : die_name(die); }

bool names_function(const std::string& name, const std::string& asked) {
  std::string wanted = canonical_cxx_name(asked);
  return name == wanted || (name.size() > wanted.size() + 2 && name.ends_with("::" + wanted));
}

std::string qualified_name(Dwarf_Die* die) {
  // A definition outside its class points at its declaration inside it.
  Dwarf_Die declaration = *die;
  Dwarf_Attribute attr;
  Dwarf_Die target;
  while ((dwarf_attr(&declaration, DW_AT_specification, &attr) || dwarf_attr(&declaration, DW_AT_abstract_origin, &attr)) &&
         dwarf_formref_die(&attr, &target))
    declaration = target;
  std::string name = die_name(&declaration);
  Dwarf_Die* scopes = nullptr;
  int n = dwarf_getscopes_die(&declaration, &scopes);
  // scopes[0] is the entry itself; then its parents, innermost first.
  for (int i = 1; i < n; ++i) {
    int tag = dwarf_tag(&scopes[i]);
    if (tag != DW_TAG_namespace && tag != DW_TAG_class_type && tag != DW_TAG_structure_type && tag != DW_TAG_union_type)
      continue;
    std::string scope = die_name(&scopes[i]);
    // An unnamed class (a lambda's) is no scope gdb names: its members go by their own names.
    if (scope.empty() && tag != DW_TAG_namespace) break;
    name = (scope.empty() ? std::string("(anonymous namespace)") : scope) + "::" + name;
  }
  free(scopes);  // NOLINT: libdw allocates with malloc
  return dwarf_tag(die) == DW_TAG_subprogram || dwarf_tag(die) == DW_TAG_inlined_subroutine ? canonical_cxx_name(name) : name;
}

std::string demangle(const char* mangled) {
  if (!mangled || std::string_view(mangled).substr(0, 2) != "_Z") return mangled ? mangled : "";
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(mangled);
}

}  // namespace ttdb
