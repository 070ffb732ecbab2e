// What expressions see in a replay: the variables and registers of a frame
// of the program where the engine stands, its memory, its functions as
// values, its types and symbols. A front end names the frame; what it keeps
// itself (value history, convenience variables) it adds by overriding dollar.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "ttdb/debugger/expr.h"
#include "ttdb/debugger/program_images.h"
#include "ttdb/debuginfo/debuginfo.h"
#include "ttdb/replay/engine.h"

namespace ttdb {

// Register names: DWARF number, or the user_regs_struct field.
struct RegisterName {
  const char* name;
  int dwarf;  // -1: not unwound
  unsigned long long Registers::*field;
};
std::span<const RegisterName> register_names();
// The type of $pc: a pointer to code.
TypeRef code_pointer_type();
// The type of $eflags (and info registers' eflags): its flags by name, "[ PF ZF IF ]", as gdb shows them.
TypeRef eflags_type();

class FrameContext : public ExprContext {
 public:
  FrameContext(Engine& engine, ProgramImages& images) : engine_(engine), images_(images) {}

  // Variables and registers come from this frame instead of the selected one.
  const Frame* frame_override = nullptr;
  bool print_pretty = false;  // "set print pretty on"

  std::optional<Bytes> read(std::uint64_t addr, std::size_t size) override;
  std::optional<Value> variable(const std::string& name) override;
  // The value of a variable the debug information describes, in the frame.
  std::optional<Value> value_of(const Variable& variable);
  // $event, $_exitcode, and the frame's registers ($pc, $sp, $eflags, $rax, $eax...).
  std::optional<Value> dollar(const std::string& name) override;
  TypeRef type_named(const std::string& name) override;
  std::optional<std::string> symbolize(std::uint64_t addr) override;
  bool pretty() const override { return print_pretty; }
  // `name` as a member of *this, in a C++ method.
  std::optional<Value> member_of_this(const std::string& name);
  // A function used as a value: `print square`, `break *square`, `x/3i write`.
  std::optional<Value> function_value(const std::string& name);

 protected:
  // The frame expressions look at (unless overridden), and the frame that
  // called `f`, when the stack was unwound that far (for entry values).
  virtual const Frame& selected_frame() = 0;
  virtual const Frame* caller_of(const Frame& f) = 0;

 private:
  bool live() const { return !engine_.exit_status().has_value(); }
  const Frame& frame() { return frame_override ? *frame_override : selected_frame(); }
  Engine& engine_;
  ProgramImages& images_;
};

}  // namespace ttdb
