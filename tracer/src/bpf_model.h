// What bpf(2) writes into the program's memory: fields of the attribute
// block it was given, and the buffers those fields point to (a map's value
// or next key, an object's info, a verifier log, a test run's output).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ttdb/trace/event.h"
#include "ttdb/tracer/tracee.h"

namespace ttdb {

// The ranges `bpf(cmd, attr, size)` wrote, as memory writes (`a` holds its
// arguments; a verifier log is written even when loading fails).
void capture_bpf(Tracee& tracee, const std::uint64_t* a, std::int64_t ret, std::vector<trace::MemWrite>& out);

// Why a successful bpf command cannot be recorded, if it cannot: the batch
// map operations write arrays whose layout ttdb does not follow.
std::optional<std::string> bpf_unrecordable(std::uint64_t cmd);

}  // namespace ttdb
