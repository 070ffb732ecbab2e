// Storing a byte range in the `blobs` table, the one way the writer and
// `ttdb pack` both do it.
#pragma once

#include "sqlite.h"
#include "ttdb/base/bytes.h"

namespace ttdb::trace {

// File contents and large memory writes: compressed harder than chunks.
inline constexpr int kBlobCompression = 3;
enum Codec { codec_raw = 0, codec_zstd = 1 };

// Runs `insert` ("INSERT INTO blobs(hash, size, codec, data) VALUES(?,?,?,?)")
// for `data`, compressed when that makes it smaller; returns the bytes stored.
std::size_t insert_blob(Stmt& insert, ByteView data, const ContentHash& hash);

}  // namespace ttdb::trace
