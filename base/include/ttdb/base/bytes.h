// Byte buffers: hashing (content addresses in the trace), compression, and
// the C-style escaping used when bytes are shown to a user.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ttdb {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// 128-bit content hash (XXH3): names a blob in the trace.
using ContentHash = std::array<std::uint8_t, 16>;
ContentHash content_hash(ByteView data);
std::string to_hex(ByteView data);

// 64-bit digest (XXH3): what a replay compares a program's output buffer with.
std::uint64_t digest64(ByteView data);

// zstd; compress never fails, decompress throws ttdb::Error on corrupt input.
Bytes compress(ByteView data, int level);
Bytes decompress(ByteView data, std::size_t expected_size);

// "abc\n\0\377" -> abc\n\0\377 as strace shows strings: printable ASCII as is,
// the rest escaped. At most max_bytes are shown, with "..." after when cut.
std::string escape_bytes(ByteView data, std::size_t max_bytes);

}  // namespace ttdb
