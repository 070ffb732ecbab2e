// gdb's `info functions`, `info variables` and `info types`: what the debug
// information declares, by file, as C declares it, then the symbols no debug
// information covers. REGEX is gdb's: a basic regular expression searched
// for in the name.
#include <regex>
#include <set>

#include "shell_internal.h"

namespace ttdb {

void Shell::cmd_info_declared(DebugInfo::DeclarationKind kind, const std::string& raw) {
  std::string pattern = trim(raw);
  std::optional<std::regex> re;
  try {
    if (!pattern.empty()) re.emplace(pattern, std::regex::basic);
  } catch (const std::regex_error&) {
    throw Error(fmt::format("invalid regular expression \"{}\"", pattern));
  }
  auto matches = [&](const std::string& name) { return !re || std::regex_search(name, *re); };
  const char* what = kind == DebugInfo::DeclarationKind::function ? "functions"
                     : kind == DebugInfo::DeclarationKind::variable ? "variables"
                                                                     : "types";
  if (pattern.empty()) out_ << fmt::format("All defined {}:\n", what);
  else out_ << fmt::format("All {} matching regular expression \"{}\":\n", what, pattern);
  std::string file;
  std::set<std::string> declared;
  for (const auto& d : debug().declarations(kind, matches)) {
    if (d.file != file) out_ << "\nFile " << (file = d.file) << ":\n";
    out_ << (d.line ? fmt::format("{}:\t", d.line) : "\t") << d.text << "\n";
    declared.insert(d.name);
  }
  if (kind == DebugInfo::DeclarationKind::type) return;
  auto plain = debug().plain_symbols(kind == DebugInfo::DeclarationKind::function, matches);
  std::erase_if(plain, [&](const Symbol& s) { return declared.count(s.name) > 0; });
  if (plain.empty()) return;
  out_ << "\nNon-debugging symbols:\n";
  for (const auto& s : plain) out_ << fmt::format("{:#018x}  {}\n", s.addr, s.name);
}

}  // namespace ttdb
