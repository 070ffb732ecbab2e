// What the shell's source files share: small text helpers and the context
// expressions are evaluated in.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

#include "shell.h"
#include "shell_parse.h"
#include "ttdb/debugger/disassembler.h"
#include "ttdb/debugger/expr.h"
#include "ttdb/debugger/frame_context.h"

namespace ttdb {

// SIGUSR1, USR1 or 10; throws Error for anything else.
int signal_number(const std::string& word);

// What expressions see: the selected frame's variables and registers, and
// the shell's own values.
class ShellContext : public FrameContext {
 public:
  explicit ShellContext(Shell& shell) : FrameContext(shell.engine_, shell.images_), shell_(shell) {}
  std::optional<Value> dollar(const std::string& name) override;

 protected:
  const Frame& selected_frame() override;
  const Frame* caller_of(const Frame& f) override;

 private:
  Shell& shell_;
};

}  // namespace ttdb
