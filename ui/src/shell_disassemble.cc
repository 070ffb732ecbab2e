// Instructions as gdb shows them: capstone's AT&T text in GNU objdump's
// spelling (no size suffix where a register gives the size, operands
// separated by bare commas, the mnemonic in a column of its own), with
// the symbol a call or jump goes to and the address a %rip-relative operand
// names. `disassemble` takes gdb's /r (raw bytes) and /s or /m (source
// lines) and ranges (START,END and START,+LENGTH).
#include <cstring>

#include "shell_internal.h"

namespace ttdb {

namespace {

std::string gnu_mnemonic_alone(const std::string& mnemonic, const std::string& operands);

// Mnemonics whose last letter is an operand size capstone always writes
// and GNU writes only when no register tells the size.
bool sized_base(const std::string& base) {
  static const char* const kBases[] = {"mov", "add", "sub", "and", "or", "xor", "cmp", "test", "lea", "inc", "dec",
                                       "neg", "not", "shl", "shr", "sar", "sal", "rol", "ror", "rcl", "rcr", "imul",
                                       "mul", "div", "idiv", "adc", "sbb", "xchg", "bt", "bts", "btr", "btc", "xadd",
                                       "cmpxchg", "bsf", "bsr", "popcnt", "lzcnt", "tzcnt", "movabs", "shld", "shrd", "in", "out"};
  if (base.starts_with("cmov") || base.starts_with("set")) return true;
  return std::find(std::begin(kBases), std::end(kBases), base) != std::end(kBases);
}

std::string gnu_mnemonic(const std::string& full, const std::string& operands) {
  // A prefix ("lock", "rep") stays as it is.
  auto space = full.rfind(' ');
  std::string prefix = space == std::string::npos ? "" : full.substr(0, space + 1);
  std::string mnemonic = space == std::string::npos ? full : full.substr(space + 1);
  return prefix + gnu_mnemonic_alone(mnemonic, operands);
}

std::string gnu_mnemonic_alone(const std::string& mnemonic, const std::string& operands) {
  // In 64-bit code these are always 64-bit: GNU leaves the q off.
  static const char* const kAlwaysQuad[] = {"callq", "retq", "pushq", "popq", "jmpq", "leaveq", "pushfq", "popfq"};
  if (std::find(std::begin(kAlwaysQuad), std::end(kAlwaysQuad), mnemonic) != std::end(kAlwaysQuad))
    return mnemonic.substr(0, mnemonic.size() - 1);
  if (mnemonic.size() < 2 || !std::strchr("bwlq", mnemonic.back())) return mnemonic;
  std::string base = mnemonic.substr(0, mnemonic.size() - 1);
  // A register operand outside a memory reference gives the size.
  bool register_operand = false;
  int depth = 0;
  for (std::size_t i = 0; i < operands.size(); ++i) {
    char c = operands[i];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    bool segment = i + 3 < operands.size() && operands[i + 3] == ':';  // %fs: names no size
    if (c == '%' && depth == 0 && !segment) register_operand = true;
  }
  return register_operand && sized_base(base) ? base : mnemonic;
}

// capstone writes small numbers in decimal and leaves an index's scale of
// 1 out: GNU writes every immediate and displacement in hex, every scale.
std::string gnu_operands(const std::string& capstone) {
  std::string in = capstone, out;
  for (std::size_t at = in.find(", "); at != std::string::npos; at = in.find(", ", at)) in.erase(at + 1, 1);
  int depth = 0;
  int commas_inside = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    bool starts_number = std::isdigit(static_cast<unsigned char>(c)) && depth == 0 &&
                         (i == 0 || in[i - 1] == '$' || in[i - 1] == '-' || in[i - 1] == ',' || in[i - 1] == '*');
    if (starts_number && !(c == '0' && i + 1 < in.size() && in[i + 1] == 'x')) {
      std::size_t end = i;
      while (end < in.size() && std::isdigit(static_cast<unsigned char>(in[end]))) ++end;
      out += fmt::format("{:#x}", std::stoull(in.substr(i, end - i)));
      i = end - 1;
      continue;
    }
    if (c == '(') {
      ++depth;
      commas_inside = 0;
    } else if (c == ',' && depth > 0) {
      ++commas_inside;
    } else if (c == ')') {
      --depth;
      if (commas_inside == 1) out += ",1";
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string Shell::instruction_text(const cs_insn& insn) {
  // GNU's own names for a few encodings.
  if (insn.size == 2 && insn.bytes[0] == 0x66 && insn.bytes[1] == 0x90) return "xchg   %ax,%ax";
  std::string operands = gnu_operands(insn.op_str);
  std::string name = insn.mnemonic;
  if (name.starts_with("nop") && operands.starts_with("%cs:")) {
    name = "cs " + name;
    operands.erase(0, 4);
  }
  if ((name.starts_with("in") || name.starts_with("out")) && name.size() <= 4)
    if (auto dx = operands.find("%dx"); dx != std::string::npos) operands.replace(dx, 3, "(%dx)");
  const cs_x86& detail = insn.detail->x86;
  // A displacement of 0 that the encoding holds shows, as GNU shows it: 0x0(%rbp).
  if (detail.encoding.disp_offset && detail.disp == 0)
    if (auto open = operands.find('('); open != std::string::npos && (open == 0 || std::strchr(",*:", operands[open - 1])))
      operands.insert(open, "0x0");
  // A negative immediate as the unsigned number of its size: $0xffffffff.
  const auto* groups = insn.detail->groups;
  bool branch_insn = std::any_of(groups, groups + insn.detail->groups_count,
                                 [](std::uint8_t g) { return g == X86_GRP_JUMP || g == X86_GRP_CALL; });
  for (std::uint8_t i = 0; i < detail.op_count && !branch_insn; ++i) {
    const cs_x86_op& op = detail.operands[i];
    if (op.type != X86_OP_IMM || op.imm >= 0) continue;
    std::string negative = fmt::format("$-{:#x}", static_cast<std::uint64_t>(-op.imm));
    std::uint64_t mask = op.size >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (op.size * 8)) - 1;
    if (auto at = operands.find(negative); at != std::string::npos)
      operands.replace(at, negative.size(), fmt::format("${:#x}", static_cast<std::uint64_t>(op.imm) & mask));
  }
  std::string mnemonic = gnu_mnemonic(name, operands);
  std::string text = operands.empty() ? mnemonic : fmt::format("{:<6} {}", mnemonic, operands);
  for (std::uint8_t i = 0; i < detail.op_count; ++i) {
    const cs_x86_op& op = detail.operands[i];
    if (op.type == X86_OP_IMM && branch_insn) {
      if (auto sym = context_->symbolize(static_cast<std::uint64_t>(op.imm))) text += " <" + *sym + ">";
    } else if (op.type == X86_OP_MEM && op.mem.base == X86_REG_RIP && op.mem.index == X86_REG_INVALID) {
      std::uint64_t target = insn.address + insn.size + static_cast<std::uint64_t>(op.mem.disp);
      auto sym = context_->symbolize(target);
      text += fmt::format("        # {:#x}{}", target, sym ? " <" + *sym + ">" : "");
    }
  }
  return text;
}

std::string Shell::disassemble_one(std::uint64_t addr, std::size_t* length, bool mark_current) {
  *length = 0;
  auto code = engine_.read_memory(addr, 16);
  if (!code) return fmt::format("   {:#x}:\tCannot access memory at address {:#x}", addr, addr);
  std::string out;
  Disassembler dis;
  dis.each(*code, addr, [&](const cs_insn& insn) {
    *length = insn.size;
    bool current = mark_current && ensure_live() && insn.address == engine_.registers().rip;
    auto sym = context_->symbolize(insn.address);
    out = fmt::format("{}{:#x}{}:\t{}", current ? "=> " : "   ", insn.address, sym ? " <" + *sym + ">" : "", instruction_text(insn));
    return false;
  }, 1);
  if (out.empty()) out = fmt::format("   {:#x}:\t(bad)", addr);
  return out;
}

void Shell::cmd_disassemble(const std::string& raw_args) {
  require_live();
  std::string args = trim(raw_args);
  bool raw = false, source = false;
  while (args.starts_with("/")) {
    auto end = args.find_first_of(" \t");
    std::string modifiers = args.substr(1, end == std::string::npos ? std::string::npos : end - 1);
    for (char m : modifiers) {
      if (m == 'r') raw = true;
      else if (m == 's' || m == 'm') source = true;
      else throw Error(fmt::format("invalid disassembly modifier /{}: ttdb knows /r, /s and /m", m));
    }
    args = end == std::string::npos ? "" : trim(args.substr(end));
  }
  std::uint64_t pc = frame().pc;
  std::uint64_t low = 0, high = 0;
  std::optional<Function> function;
  if (auto comma = args.find(','); comma != std::string::npos) {
    // START,END or START,+LENGTH
    low = decay_address(evaluate(args.substr(0, comma), *context_));
    std::string second = trim(args.substr(comma + 1));
    high = second.starts_with("+") ? low + decay_address(evaluate(second.substr(1), *context_))
                                   : decay_address(evaluate(second, *context_));
    if (high <= low) throw Error(fmt::format("the range {} is empty: its end must come after its start", args));
    if (high - low > (1u << 20)) throw Error("disassemble shows at most 1 MiB at once");
    out_ << fmt::format("Dump of assembler code from {:#x} to {:#x}:\n", low, high);
  } else {
    if (args.empty()) function = debug().function_at(frame().lookup_pc());
    else if (auto named = debug().functions_named(args); !named.empty()) function = named.front();
    else function = debug().function_at(decay_address(evaluate(args, *context_)));
    if (!function) throw Error("no function contains the program counter; use x/20i ADDRESS");
    low = function->low;
    high = function->high;
    out_ << "Dump of assembler code for function " << function->name << ":\n";
  }
  // The last instruction that starts in the range may end past it.
  auto code = engine_.read_memory(low, high - low + 15);
  if (!code) code = engine_.read_memory(low, high - low);
  if (!code) throw Error(fmt::format("cannot read the code at {:#x}", low));
  Disassembler dis;
  std::optional<SourceLine> shown;
  dis.each(*code, low, [&](const cs_insn& insn) {
    if (insn.address >= high) return false;
    if (source) {
      // gdb's /s: the source line before the instructions made from it.
      auto line = debug().line_at(insn.address);
      if (line && (!shown || line->line != shown->line || line->file != shown->file)) {
        if (!shown || line->file != shown->file) out_ << (shown ? "\n" : "") << line->file << ":\n";
        else out_ << "\n";
        out_ << line->line << "\t" << debug().source_text(line->file, line->line).value_or("") << "\n";
        shown = line;
      }
    }
    std::string where;
    if (function) {
      where = fmt::format("<+{}>", insn.address - function->low);
    } else if (auto sym = context_->symbolize(insn.address)) {
      where = "<" + *sym + (sym->find('+') == std::string::npos ? "+0>" : ">");
    }
    std::string bytes;
    if (raw) {
      for (std::uint16_t i = 0; i < insn.size; ++i) bytes += fmt::format("{}{:02x}", i ? " " : "", insn.bytes[i]);
      bytes = fmt::format("{:<19}\t", bytes);
    }
    out_ << fmt::format("{}{:#018x}{}:\t{}{}\n", insn.address == pc ? "=> " : "   ", insn.address, where.empty() ? "" : " " + where,
                        bytes, instruction_text(insn));
    return true;
  });
  out_ << "End of assembler dump.\n";
}

}  // namespace ttdb
