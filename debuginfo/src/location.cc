#include "location.h"

#include <dwarf.h>

#include <vector>

namespace ttdb {
namespace {

bool is_binary(unsigned atom) {
  switch (atom) {
    case DW_OP_plus: case DW_OP_minus: case DW_OP_mul: case DW_OP_div: case DW_OP_mod:
    case DW_OP_and: case DW_OP_or: case DW_OP_xor: case DW_OP_shl: case DW_OP_shr: case DW_OP_shra:
      return true;
    default: return false;
  }
}

std::optional<std::uint64_t> binary(unsigned atom, std::uint64_t a, std::uint64_t b) {
  auto sa = static_cast<std::int64_t>(a), sb = static_cast<std::int64_t>(b);
  switch (atom) {
    case DW_OP_plus: return a + b;
    case DW_OP_minus: return a - b;
    case DW_OP_mul: return a * b;
    case DW_OP_div: if (sb == 0) return std::nullopt; return static_cast<std::uint64_t>(sa / sb);
    case DW_OP_mod: if (b == 0) return std::nullopt; return a % b;
    case DW_OP_and: return a & b;
    case DW_OP_or: return a | b;
    case DW_OP_xor: return a ^ b;
    case DW_OP_shl: return b >= 64 ? 0 : a << b;
    case DW_OP_shr: return b >= 64 ? 0 : a >> b;
    case DW_OP_shra: return static_cast<std::uint64_t>(sa >> (b >= 64 ? 63 : b));
    default: return std::nullopt;
  }
}

// The register DW_OP_entry_value's operand names (the only form compilers emit).
std::optional<int> entry_register(Dwarf_Attribute* attr, const Dwarf_Op* op) {
  Dwarf_Attribute inner;
  Dwarf_Op* ops = nullptr;
  std::size_t n = 0;
  if (!attr || dwarf_getlocation_attr(attr, op, &inner) != 0 || dwarf_getlocation(&inner, &ops, &n) != 0) return std::nullopt;
  return register_named(ops, n);
}

}  // namespace

std::optional<int> register_named(const Dwarf_Op* ops, std::size_t n) {
  if (n != 1) return std::nullopt;
  if (ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31) return static_cast<int>(ops[0].atom - DW_OP_reg0);
  if (ops[0].atom == DW_OP_regx) return static_cast<int>(ops[0].number);
  return std::nullopt;
}

Located evaluate_location(Dwarf_Attribute* attr, const Dwarf_Op* ops, std::size_t n, const LocationContext& context) {
  const Frame* frame = context.frame;
  std::vector<std::uint64_t> stack;
  auto reg = [&](std::uint64_t r) -> std::optional<std::uint64_t> {
    if (!frame || r >= frame->regs.size() || !frame->known[r]) return std::nullopt;
    return frame->regs[r];
  };
  for (std::size_t i = 0; i < n; ++i) {
    const Dwarf_Op& op = ops[i];
    unsigned atom = op.atom;
    if (atom >= DW_OP_reg0 && atom <= DW_OP_reg31) return Located{Variable::Where::register_, 0, static_cast<int>(atom - DW_OP_reg0)};
    if (atom == DW_OP_regx) return Located{Variable::Where::register_, 0, static_cast<int>(op.number)};
    if (atom == DW_OP_implicit_pointer || atom == DW_OP_GNU_implicit_pointer) return Located{Variable::Where::implicit_pointer, 0, 0};
    if (atom >= DW_OP_lit0 && atom <= DW_OP_lit31) {
      stack.push_back(atom - DW_OP_lit0);
      continue;
    }
    if (atom >= DW_OP_breg0 && atom <= DW_OP_breg31) {
      auto v = reg(atom - DW_OP_breg0);
      if (!v) return {};
      stack.push_back(*v + op.number);
      continue;
    }
    if (is_binary(atom)) {
      if (stack.size() < 2) return {};
      std::uint64_t b = stack.back();
      stack.pop_back();
      auto v = binary(atom, stack.back(), b);
      if (!v) return {};
      stack.back() = *v;
      continue;
    }
    switch (atom) {
      case DW_OP_addr: stack.push_back(op.number + context.bias); break;
      case DW_OP_bregx: {
        auto v = reg(op.number);
        if (!v) return {};
        stack.push_back(*v + op.number2);
        break;
      }
      case DW_OP_call_frame_cfa:
        if (!frame || !frame->cfa) return {};
        stack.push_back(frame->cfa);
        break;
      case DW_OP_fbreg: {
        auto base = context.frame_base ? context.frame_base() : std::nullopt;
        if (!base) return {};
        stack.push_back(*base + op.number);
        break;
      }
      case DW_OP_const1u: case DW_OP_const1s: case DW_OP_const2u: case DW_OP_const2s:
      case DW_OP_const4u: case DW_OP_const4s: case DW_OP_const8u: case DW_OP_const8s:
      case DW_OP_constu: case DW_OP_consts: stack.push_back(op.number); break;
      case DW_OP_plus_uconst:
        if (stack.empty()) return {};
        stack.back() += op.number;
        break;
      case DW_OP_neg:
      case DW_OP_not:
        if (stack.empty()) return {};
        stack.back() = atom == DW_OP_neg ? -stack.back() : ~stack.back();
        break;
      case DW_OP_dup:
        if (stack.empty()) return {};
        stack.push_back(stack.back());
        break;
      case DW_OP_drop:
        if (stack.empty()) return {};
        stack.pop_back();
        break;
      case DW_OP_swap:
        if (stack.size() < 2) return {};
        std::swap(stack[stack.size() - 1], stack[stack.size() - 2]);
        break;
      case DW_OP_over:
        if (stack.size() < 2) return {};
        stack.push_back(stack[stack.size() - 2]);
        break;
      case DW_OP_entry_value:
      case DW_OP_GNU_entry_value: {
        auto regno = entry_register(attr, &op);
        auto v = regno && context.entry_value ? context.entry_value(*regno) : std::nullopt;
        if (!v) return {};
        stack.push_back(*v);
        break;
      }
      case DW_OP_stack_value:
        if (stack.empty()) return {};
        return Located{Variable::Where::value, stack.back(), 0};
      default: return {};
    }
  }
  if (stack.empty()) return {};
  return Located{Variable::Where::memory, stack.back(), 0};
}

}  // namespace ttdb
