#include "ttdb/base/bytes.h"

#include <fmt/format.h>
#include <xxhash.h>
#include <zstd.h>

#include <cstring>
#include <memory>

#include "ttdb/base/error.h"

namespace ttdb {

ContentHash content_hash(ByteView data) {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits(data.data(), data.size()));
  ContentHash hash;
  std::memcpy(hash.data(), canonical.digest, hash.size());
  return hash;
}

std::uint64_t digest64(ByteView data) { return XXH3_64bits(data.data(), data.size()); }

std::string to_hex(ByteView data) {
  std::string out;
  out.reserve(data.size() * 2);
  for (auto byte : data) out += fmt::format("{:02x}", byte);
  return out;
}

Bytes compress(ByteView data, int level) {
  // A context per thread, kept, as for decompress: ZSTD_compress makes and
  // clears one for each call, which cost the recorder's writer a tenth of
  // its time on a chunk of small events.
  struct FreeContext {
    void operator()(ZSTD_CCtx* ctx) const { ZSTD_freeCCtx(ctx); }
  };
  static thread_local std::unique_ptr<ZSTD_CCtx, FreeContext> context(ZSTD_createCCtx());
  if (!context) fail("cannot compress the trace: out of memory");
  Bytes out(ZSTD_compressBound(data.size()));
  std::size_t size = ZSTD_compressCCtx(context.get(), out.data(), out.size(), data.data(), data.size(), level);
  TTDB_CHECK(!ZSTD_isError(size), "zstd: {}", ZSTD_getErrorName(size));
  out.resize(size);
  return out;
}

Bytes decompress(ByteView data, std::size_t expected_size) {
  // The size comes from the trace as the data does: a damaged one may claim
  // any size. Check it against the frame before allocating it: compress()
  // writes one frame, with its size, and no frame expands more than a block
  // (128 KiB) per 4 bytes (an RLE block's header and byte).
  unsigned long long framed = ZSTD_getFrameContentSize(data.data(), data.size());
  constexpr std::size_t kMaxExpansion = ZSTD_BLOCKSIZE_MAX / 4;
  if (framed == ZSTD_CONTENTSIZE_ERROR)
    fail("a compressed block in the trace is corrupt (not zstd data)");
  if ((framed != ZSTD_CONTENTSIZE_UNKNOWN && framed != expected_size) || expected_size / kMaxExpansion > data.size())
    fail("a compressed block in the trace is corrupt (it says it holds {} bytes, which it cannot)", expected_size);
  // A context per thread, kept: making one for each chunk cost a replay
  // more than a tenth of its decoding.
  struct FreeContext {
    void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
  };
  static thread_local std::unique_ptr<ZSTD_DCtx, FreeContext> context(ZSTD_createDCtx());
  if (!context) fail("cannot decompress the trace: out of memory");
  Bytes out(expected_size);
  std::size_t size = ZSTD_decompressDCtx(context.get(), out.data(), out.size(), data.data(), data.size());
  if (ZSTD_isError(size) || size != expected_size)
    fail("a compressed block in the trace is corrupt ({})",
         ZSTD_isError(size) ? ZSTD_getErrorName(size) : "wrong size");
  return out;
}

std::string escape_bytes(ByteView data, std::size_t max_bytes) {
  std::string out;
  std::size_t shown = std::min(data.size(), max_bytes);
  for (std::size_t i = 0; i < shown; ++i) {
    std::uint8_t c = data[i];
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          // Octal as strace does; a following digit would be ambiguous, so use 3 digits.
          out += fmt::format("\\{:o}", c);
          if (i + 1 < shown && data[i + 1] >= '0' && data[i + 1] <= '7') {
            out.resize(out.size() - fmt::format("{:o}", c).size());
            out += fmt::format("{:03o}", c);
          }
        }
    }
  }
  if (shown < data.size()) out += "\"...";
  else out += "\"";
  return "\"" + out;
}

}  // namespace ttdb
