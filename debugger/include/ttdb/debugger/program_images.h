// The debug information of each program image a replay runs: a process that
// exec'd another program has its own.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include "ttdb/debuginfo/debuginfo.h"
#include "ttdb/replay/engine.h"

namespace ttdb {

class ProgramImages {
 public:
  explicit ProgramImages(Engine& engine) : engine_(engine) {}

  // The image the engine stands in (past the replay's end, the last one
  // used), its modules read on first use: its mappings cover the whole
  // recording.
  DebugInfo& current();

 private:
  Engine& engine_;
  std::map<std::int64_t, std::unique_ptr<DebugInfo>> infos_;
  std::int64_t last_ = 0;
};

}  // namespace ttdb
