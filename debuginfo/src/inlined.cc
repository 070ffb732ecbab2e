// Functions the compiler inlined: the inlined calls around a pc, the frames
// gdb shows for them, and each inlined copy of a function for `break`.
#include <algorithm>

#include "impl.h"

namespace ttdb {
namespace {

// The call's ranges in the order DWARF gives them: gdb 13 takes the first
// as where the call begins (it does not read DW_AT_entry_pc).
std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges_of(Dwarf_Die* die, Dwarf_Addr bias) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  Dwarf_Addr base = 0, low = 0, high = 0;
  std::ptrdiff_t offset = 0;
  while ((offset = dwarf_ranges(die, offset, &base, &low, &high)) > 0)
    if (low < high) out.emplace_back(low + bias, high + bias);
  return out;
}

InlinedCall describe(Dwarf_Die* die, Dwarf_Addr bias) {
  InlinedCall call;
  call.name = shown_name(die);
  call.ranges = ranges_of(die, bias);
  call.entry = call.ranges.empty() ? 0 : call.ranges.front().first;
  call.id = dwarf_dieoffset(die) ^ (bias << 1);
  Dwarf_Die cu;
  Dwarf_Files* files = nullptr;
  std::size_t count = 0;
  auto file = die_udata(die, DW_AT_call_file);
  if (file && dwarf_diecu(die, &cu, nullptr, nullptr) && dwarf_getsrcfiles(&cu, &files, &count) == 0 && *file < count)
    if (const char* name = dwarf_filesrc(files, *file, nullptr, nullptr)) call.call_file = name;
  call.call_line = static_cast<int>(die_udata(die, DW_AT_call_line).value_or(0));
  return call;
}

// An inlined call as a function of its own: it begins at its entry, where
// `break` stops, and spans its ranges.
Function as_function(const InlinedCall& call) {
  Function f;
  f.name = call.name;
  f.low = f.body = call.entry;
  f.high = call.entry + 1;
  for (const auto& [low, high] : call.ranges) f.high = std::max(f.high, high);
  f.has_lines = true;
  return f;
}

// Calls f on each inlined call under `scope` (blocks and inlined calls
// nest), with the entry of the function it was inlined from.
template <class F>
void for_each_inlined_call(Dwarf_Die* scope, F&& f) {
  for_each_child(scope, [&](Dwarf_Die* child) {
    int tag = dwarf_tag(child);
    if (tag == DW_TAG_inlined_subroutine)
      if (auto origin = abstract_origin(child)) f(child, &*origin);
    if (tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block || tag == DW_TAG_subprogram ||
        tag == DW_TAG_try_block || tag == DW_TAG_catch_block)
      for_each_inlined_call(child, f);
  });
}

}  // namespace

bool InlinedCall::contains(std::uint64_t pc) const {
  return std::any_of(ranges.begin(), ranges.end(), [&](const auto& r) { return r.first <= pc && pc < r.second; });
}

std::vector<InlinedCall> DebugInfo::inlined_calls(std::uint64_t pc) const {
  auto scopes = impl_->scopes_at(pc);
  std::vector<InlinedCall> out;
  for (Dwarf_Die* die : scopes.inlined()) out.push_back(describe(die, scopes.bias));
  return out;
}

std::vector<InlinedCall> DebugInfo::inlined_calls_in_function(std::uint64_t pc) const {
  auto scopes = impl_->scopes_at(pc);
  std::vector<InlinedCall> out;
  if (Dwarf_Die* function = scopes.function())
    for_each_inlined_call(function, [&](Dwarf_Die* call, Dwarf_Die*) { out.push_back(describe(call, scopes.bias)); });
  return out;
}

std::optional<Function> DebugInfo::frame_function(const Frame& frame) const {
  if (!frame.inlined) return function_at(frame.lookup_pc());
  auto scopes = impl_->scopes_at(frame.lookup_pc());
  auto calls = scopes.inlined();
  if (frame.inline_depth >= static_cast<int>(calls.size())) return function_at(frame.lookup_pc());
  return as_function(describe(calls[static_cast<std::size_t>(frame.inline_depth)], scopes.bias));
}

std::optional<SourceLine> DebugInfo::frame_line(const Frame& frame) const {
  if (frame.inline_depth == 0) return line_at(frame.lookup_pc());
  auto calls = inlined_calls(frame.lookup_pc());
  if (frame.inline_depth > static_cast<int>(calls.size())) return line_at(frame.lookup_pc());
  const InlinedCall& inner = calls[static_cast<std::size_t>(frame.inline_depth - 1)];
  if (inner.call_line == 0) return std::nullopt;
  return SourceLine{inner.call_file, inner.call_line, 0, false};
}

std::vector<Frame> DebugInfo::with_inlined_frames(const std::vector<Frame>& stack) const {
  std::vector<Frame> out;
  for (const Frame& f : stack) {
    auto calls = impl_->scopes_at(f.lookup_pc()).inlined().size();
    for (std::size_t depth = 0; depth <= calls; ++depth) {
      Frame shown = f;
      shown.level = static_cast<int>(out.size());
      shown.inline_depth = static_cast<int>(depth);
      shown.inlined = depth < calls;
      // All of them stand where the innermost does.
      shown.exact_pc = f.level == 0 || f.exact_pc;
      out.push_back(shown);
    }
  }
  return out;
}

std::vector<Function> DebugInfo::Impl::inlined_copies(const std::function<bool(Dwarf_Die*)>& named) const {
  std::vector<Function> out;
  for_each_cu([&](Dwarf_Die* cu, Dwarf_Addr bias) {
    // Only compile units that inline a function of that name are walked whole.
    bool inlines = false;
    for_each_definition(cu, [&](Dwarf_Die* die) {
      inlines = inlines || (dwarf_tag(die) == DW_TAG_subprogram && dwarf_hasattr(die, DW_AT_inline) && named(die));
    });
    if (!inlines) return;
    for_each_definition(cu, [&](Dwarf_Die* die) {
      if (dwarf_tag(die) != DW_TAG_subprogram || (!dwarf_hasattr(die, DW_AT_low_pc) && !dwarf_hasattr(die, DW_AT_ranges))) return;
      for_each_inlined_call(die, [&](Dwarf_Die* call, Dwarf_Die* origin) {
        if (!named(origin)) return;
        InlinedCall c = describe(call, bias);
        if (!c.ranges.empty()) out.push_back(as_function(c));
      });
    });
  });
  return out;
}

}  // namespace ttdb
