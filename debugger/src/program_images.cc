#include "ttdb/debugger/program_images.h"

#include <vector>

namespace ttdb {

DebugInfo& ProgramImages::current() {
  bool live = !engine_.exit_status().has_value();
  if (live) last_ = engine_.image();
  auto& info = infos_[last_];
  if (!info) info = std::make_unique<DebugInfo>();
  if (live && !info->modules_reported()) {
    std::vector<DebugInfo::KnownFile> known;
    for (const auto& m : engine_.image_mappings())
      if (m.file_offset == 0) known.push_back(DebugInfo::KnownFile{engine_.local_path(m.path), m.addr});
    info->refresh(engine_.pid(), known);
  }
  return *info;
}

}  // namespace ttdb
