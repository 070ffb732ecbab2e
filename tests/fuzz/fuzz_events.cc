// Fuzzes the codec of the trace's event chunks (trace/src/codec.h) on its
// own, far faster than through a whole trace file: the input is a chunk's
// bytes once decompressed. Decoding must end in events or ttdb::Error, and
// every event decoded must encode back to bytes that decode to it again.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "codec.h"
#include "ttdb/base/error.h"

namespace {

namespace tt = ttdb::trace;

bool same_write(const tt::MemWrite& a, const tt::MemWrite& b) {
  return a.addr == b.addr && a.size == b.size && a.data == b.data && a.blob == b.blob && a.file == b.file &&
         a.file_offset == b.file_offset;
}

bool same_event(const tt::Event& a, const tt::Event& b) {
  if (a.mem.size() != b.mem.size()) return false;
  for (std::size_t i = 0; i < a.mem.size(); ++i)
    if (!same_write(a.mem[i], b.mem[i])) return false;
  return a.kind == b.kind && a.tid == b.tid && a.nr == b.nr && a.args == b.args && a.ret == b.ret &&
         a.path == b.path && a.path2 == b.path2 && a.digest == b.digest && a.preview == b.preview &&
         a.emit == b.emit && a.info == b.info && a.buffered == b.buffered;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string trace = "fuzz.ttdb";
  ttdb::ByteView in(data, size);
  tt::Event event;  // reused, as the reader's cursor does
  tt::ChunkContext context;
  while (!in.empty()) {
    try {
      tt::decode_event(in, context, event, trace);
    } catch (const ttdb::Error&) {
      return 0;  // not an event: refused, as it should be
    }
    // An event that decoded is one the codec can write: an Error here escapes, and is a crash.
    // On its own: the first event of a chunk.
    ttdb::Bytes encoded;
    tt::ChunkContext fresh;
    tt::encode_event(event, fresh, encoded);
    ttdb::ByteView again(encoded);
    tt::Event decoded;
    tt::ChunkContext fresh_again;
    tt::decode_event(again, fresh_again, decoded, trace);
    if (!again.empty() || !same_event(event, decoded)) {
      std::fprintf(stderr, "an event does not survive encoding and decoding again\n");
      std::abort();
    }
  }
  return 0;
}
