// Packing a trace: copying into it the files it names but only checked on
// disk (system libraries), so that it replays where they are gone or other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ttdb/trace/event.h"

namespace ttdb::trace {

// The content of the file at `file.path` when it is still the recorded one
// (the same hash); nothing when it changed or went.
std::optional<Bytes> content_as_recorded(const FileRecord& file);

struct PackOutcome {
  std::int64_t added = 0;       // files whose content is now in the trace
  std::uint64_t bytes = 0;      // their size, uncompressed
  std::uint64_t stored = 0;     // what the new blobs take in the trace
  std::vector<FileRecord> missing;  // gone or changed on disk: not packed
};

// Stores the content of every file of the trace at `path` that it does not
// hold yet, when the file on disk is still the one recorded (same hash),
// each content once. Files that changed are left as they were and listed.
// Throws ttdb::Error when the trace cannot be read or written.
PackOutcome pack(const std::string& path);

}  // namespace ttdb::trace
