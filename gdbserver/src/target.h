// What gdb is told about the machine: the target description (x86-64, as
// gdb's own i386:x86-64 features name the registers) and where each
// register's value comes from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "ttdb/base/bytes.h"
#include "ttdb/tracer/tracee.h"

namespace ttdb::gdb {

const std::string& target_xml();
std::size_t target_register_count();
std::size_t register_size(std::size_t number);  // bytes
// The register's bytes (little-endian, register_size() of them), from the
// general registers or the XSAVE area; nullopt when `xstate` lacks them.
std::optional<std::string> register_bytes(const Registers& regs, const Bytes& xstate, std::size_t number);

}  // namespace ttdb::gdb
