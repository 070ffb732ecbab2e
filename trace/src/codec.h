// Events as bytes: how the `chunks` table packs consecutive events
// (docs/trace-format.md). Varints keep small numbers small; an event's
// arguments and memory addresses are written against the event before it
// in its chunk (format 10), which a loop repeats; zstd, applied to a whole
// chunk, takes care of the rest of the repetition.
#pragma once

#include <array>

#include "ttdb/base/bytes.h"
#include "ttdb/trace/event.h"

namespace ttdb::trace {

// What an event's bytes may refer to: the events before it in its chunk.
// Each chunk is encoded, and decoded, from a fresh one.
struct ChunkContext {
  std::array<std::uint64_t, 6> args{};
  std::uint64_t addr = 0;  // the last memory write's
};

// Appends `e` (everything but its id, which is its place in the chunk).
void encode_event(const Event& e, ChunkContext& context, Bytes& out);

// Reads the next event from `in` into `e` (every field but the id; buffers
// `e` already holds are reused) and advances `in` past it.
// Throws ttdb::Error naming `trace` when the bytes do not hold an event.
void decode_event(ByteView& in, ChunkContext& context, Event& e, const std::string& trace);

}  // namespace ttdb::trace
