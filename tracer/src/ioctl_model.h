// What an ioctl writes into the program's memory. The request number says so
// for most drivers (_IOR, _IOWR); the tty, console, socket, block and file
// system requests that predate that encoding, and the few whose encoding
// lies, are listed here.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "ttdb/tracer/tracee.h"

namespace ttdb {

// An address and a byte count the kernel wrote.
using WrittenRange = std::pair<std::uint64_t, std::uint64_t>;

// The ranges a successful `ioctl(fd, request, arg)` wrote; nullopt when ttdb
// does not know the request (its effect cannot be recorded).
std::optional<std::vector<WrittenRange>> ioctl_writes(Tracee& tracee, std::uint64_t request, std::uint64_t arg);

}  // namespace ttdb
