// DWARF location expressions, evaluated for one frame of the stack.
#pragma once

#include <elfutils/libdw.h>

#include <cstdint>
#include <functional>
#include <optional>

#include "ttdb/debuginfo/debuginfo.h"

namespace ttdb {

// Where a variable is, or its value (Where::value, in `addr`).
struct Located {
  Variable::Where where = Variable::Where::optimized_out;
  std::uint64_t addr = 0;
  int regno = 0;
};

struct LocationContext {
  const Frame* frame = nullptr;
  Dwarf_Addr bias = 0;
  // DW_OP_fbreg's base: the function's frame base, if known.
  std::function<std::optional<std::uint64_t>()> frame_base;
  // DW_OP_entry_value(DW_OP_regN): what register N held when the function
  // was called, if the caller's call-site information says.
  std::function<std::optional<std::uint64_t>(int regno)> entry_value;
};

// Evaluates `ops` (from `attr`, which DW_OP_entry_value's operand needs).
// What it cannot evaluate makes the variable optimized out, never wrong.
Located evaluate_location(Dwarf_Attribute* attr, const Dwarf_Op* ops, std::size_t n, const LocationContext& context);

// The register a location names when it is exactly DW_OP_regN.
std::optional<int> register_named(const Dwarf_Op* ops, std::size_t n);

}  // namespace ttdb
