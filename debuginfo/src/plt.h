// The names gdb gives the PLT's stubs ("printf@plt"), which ELF files give
// no symbol of their own.
#pragma once

#include <elfutils/libdwfl.h>

#include <cstdint>
#include <optional>
#include <string>

namespace ttdb {

// The stub at `addr` in `module`, as "NAME@plt", and where that stub starts.
struct PltStub {
  std::string name;
  std::uint64_t start = 0;
};
std::optional<PltStub> plt_stub_at(Dwfl_Module* module, std::uint64_t addr);

}  // namespace ttdb
