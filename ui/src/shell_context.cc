// What the shell adds to the frames expressions see: the value history,
// $_, $bpnum and convenience variables.
#include <cctype>

#include "shell_internal.h"
#include "ttdb/base/parse.h"

namespace ttdb {

const Frame& ShellContext::selected_frame() { return shell_.frame(); }

const Frame* ShellContext::caller_of(const Frame& f) { return shell_.caller_of(f); }

std::optional<Value> ShellContext::dollar(const std::string& name) {
  if (name == "event" || name == "_exitcode") return FrameContext::dollar(name);
  auto& values = shell_.values_;
  if (name.empty()) {
    if (values.empty()) throw ExprError("the value history is empty");
    return values.back();
  }
  if (name == "$") {
    if (values.size() < 2) throw ExprError("the value history has fewer than 2 values");
    return values[values.size() - 2];
  }
  if (std::isdigit(static_cast<unsigned char>(name[0]))) {
    auto n = parse_uint(name);
    if (!n || *n == 0 || *n > values.size()) throw ExprError(fmt::format("history has not yet reached ${}", name));
    return values[*n - 1];
  }
  if (name == "_") {
    if (!shell_.last_examined_) throw ExprError("$_ is set by x, which has not examined memory yet");
    return shell_.last_examined_;
  }
  if (name == "bpnum") {
    if (!shell_.last_breakpoint_) throw ExprError("$bpnum is set once a breakpoint is made");
    return make_int(shell_.last_breakpoint_, "int");
  }
  if (auto it = shell_.convenience_.find(name); it != shell_.convenience_.end()) return it->second;
  return FrameContext::dollar(name);
}

}  // namespace ttdb
