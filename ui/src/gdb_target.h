// What gdb is told about the machine: the target description (x86-64, as
// gdb's own i386:x86-64 features name the registers) and where each
// register's value comes from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "ttdb/tracer/tracee.h"

namespace ttdb::gdb {

const std::string& target_xml();
std::size_t target_register_count();
std::size_t register_size(std::size_t number);  // bytes
// The register's value; nullopt for the x87 and SSE state, not read here.
std::optional<std::uint64_t> register_value(const Registers& regs, std::size_t number);

}  // namespace ttdb::gdb
