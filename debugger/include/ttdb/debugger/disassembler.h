// capstone for the debugger's front ends: instructions in AT&T syntax with
// their details (groups, operands), as gdb shows and reasons about them.
#pragma once

#include <capstone/capstone.h>

#include <cstddef>
#include <cstdint>

#include "ttdb/base/bytes.h"
#include "ttdb/base/error.h"

namespace ttdb {

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

  // Instructions in `code` (at `addr`), all of them or up to `count`, while `f` returns true.
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

// Whether the instruction is in one of capstone's groups (CS_GRP_CALL...).
inline bool in_group(const cs_insn& insn, std::uint8_t group) {
  for (std::uint8_t i = 0; insn.detail && i < insn.detail->groups_count; ++i)
    if (insn.detail->groups[i] == group) return true;
  return false;
}

inline bool is_call(const cs_insn& insn) { return in_group(insn, CS_GRP_CALL); }

}  // namespace ttdb
