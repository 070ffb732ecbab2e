// Events as bytes: how the `chunks` table packs consecutive events (format
// version 2, docs/trace-format.md). Varints keep small numbers small; zstd,
// applied to a whole chunk, takes care of the repetition between events.
#pragma once

#include "ttdb/base/bytes.h"
#include "ttdb/trace/event.h"

namespace ttdb::trace {

// Appends `e` (everything but its id, which is its place in the chunk).
void encode_event(const Event& e, Bytes& out);

// Reads the next event from `in` into `e` (every field but the id; buffers
// `e` already holds are reused) and advances `in` past it.
// Throws ttdb::Error naming `trace` when the bytes do not hold an event.
void decode_event(ByteView& in, Event& e, const std::string& trace);

}  // namespace ttdb::trace
