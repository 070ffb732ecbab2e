// Storing a byte range in the `blobs` table, the one way the writer and
// `ttdb pack` both do it.
#pragma once

#include "sqlite.h"
#include "ttdb/base/bytes.h"

namespace ttdb::trace {

// Large memory writes and file contents, as the writer stores them while
// the program runs: fast (level 3 took 0.3 ms of every recording on the
// shim's code alone, making and clearing its tables). `ttdb pack`, which
// runs afterwards, compresses harder.
inline constexpr int kRecordedBlobCompression = 1;
inline constexpr int kPackedBlobCompression = 3;
enum Codec { codec_raw = 0, codec_zstd = 1 };

// Runs `insert` ("INSERT INTO blobs(hash, size, codec, data) VALUES(?,?,?,?)")
// for `data`, compressed at `level` when that makes it smaller; returns the
// bytes stored.
std::size_t insert_blob(Stmt& insert, ByteView data, const ContentHash& hash, int level);

}  // namespace ttdb::trace
