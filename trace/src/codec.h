// Events as bytes: how the `chunks` table packs consecutive events
// (docs/trace-format.md). Varints keep small numbers small; an event's
// arguments and memory addresses are written against the event before it
// in its chunk (format 10), which a loop repeats; an event that is the one
// before it again but for its result and a small output is written as a
// repeat, that result and output written against the previous ones (format
// 11); zstd, applied to a whole chunk, takes care of the rest.
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
  // The previous event, for one written as a repeat of it (format 11):
  // what a repeat takes from it as it was, and what a repeat writes
  // against it. `repeatable`: it was one a repeat may follow.
  bool repeatable = false;
  EventKind kind{};
  std::uint64_t fields = 0;
  int tid = 0;
  std::int64_t nr = 0;
  std::int64_t ret = 0;
  std::uint8_t data_size = 0;  // of its one memory write, if it had one
  std::array<std::uint8_t, 32> data{};
};

// Appends `e` (everything but its id, which is its place in the chunk).
void encode_event(const Event& e, ChunkContext& context, Bytes& out);

// Reads the next event from `in` into `e` (every field but the id; buffers
// `e` already holds are reused) and advances `in` past it.
// Throws ttdb::Error naming `trace` when the bytes do not hold an event.
void decode_event(ByteView& in, ChunkContext& context, Event& e, const std::string& trace);

}  // namespace ttdb::trace
