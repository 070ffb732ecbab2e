// Where a breakpoint on a function goes: after its prologue, by gdb's rules,
// so that `break f` stops where gdb stops.
#pragma once

#include <elfutils/libdwfl.h>

#include <cstdint>

namespace ttdb {

// The address after the prologue of the function at [low, high) of `mod`.
std::uint64_t after_prologue(Dwfl_Module* mod, std::uint64_t low, std::uint64_t high);

}  // namespace ttdb
