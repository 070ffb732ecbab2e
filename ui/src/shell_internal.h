// What the shell's source files share: small text helpers, register names,
// capstone, and the context expressions are evaluated in.
#pragma once

#include <capstone/capstone.h>
#include <fmt/format.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "expr.h"
#include "shell.h"
#include "shell_parse.h"

namespace ttdb {

// The type of $pc: a pointer to code.
TypeRef code_pointer_type();
// The type of $eflags (and info registers' eflags): its flags by name, "[ PF ZF IF ]", as gdb shows them.
TypeRef eflags_type();
bool is_call(const cs_insn& insn);
// SIGUSR1, USR1 or 10; throws Error for anything else.
int signal_number(const std::string& word);

// Register names: DWARF number, or the user_regs_struct field.
struct RegisterName {
  const char* name;
  int dwarf;  // -1: not unwound
  unsigned long long Registers::*field;
};

std::span<const RegisterName> register_names();

// capstone, opened once per use: cheap next to a ptrace stop.
class Disassembler {
 public:
  Disassembler() {
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle_) != CS_ERR_OK) throw Error("capstone cannot start; reinstall libcapstone4");
    cs_option(handle_, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
    cs_option(handle_, CS_OPT_DETAIL, CS_OPT_ON);
  }
  ~Disassembler() { cs_close(&handle_); }
  Disassembler(const Disassembler&) = delete;
  Disassembler& operator=(const Disassembler&) = delete;

  // Instructions in `code` (at `addr`), all of them or up to `count`.
  template <class F>
  void each(const Bytes& code, std::uint64_t addr, F&& f, std::size_t count = 0) {
    cs_insn* insns = nullptr;
    std::size_t n = cs_disasm(handle_, code.data(), code.size(), addr, count, &insns);
    for (std::size_t i = 0; i < n; ++i)
      if (!f(insns[i])) break;
    cs_free(insns, n);
  }

 private:
  csh handle_ = 0;
};

// What expressions see: the selected frame's variables and registers.
class ShellContext : public ExprContext {
 public:
  explicit ShellContext(Shell& shell) : shell_(shell) {}

  // Variables and registers come from this frame instead of the selected one.
  const Frame* frame_override = nullptr;

  std::optional<Bytes> read(std::uint64_t addr, std::size_t size) override;
  std::optional<Value> variable(const std::string& name) override;
  std::optional<Value> dollar(const std::string& name) override;
  TypeRef type_named(const std::string& name) override;
  std::optional<std::string> symbolize(std::uint64_t addr) override;
  bool pretty() const override { return print_pretty; }
  bool print_pretty = false;  // "set print pretty on"
  // `name` as a member of *this, in a C++ method.
  std::optional<Value> member_of_this(const std::string& name);
  // A function used as a value: `print square`, `break *square`, `x/3i write`.
  std::optional<Value> function_value(const std::string& name);

 private:
  Shell& shell_;
};

}  // namespace ttdb
