// `ttdb serve --process N`: gdb sees one process of a recording with
// several, from its first instruction to its end, and nothing of the others
// (their breakpoint hits, signals and threads), which the replay runs all
// the same.
#pragma once

#include <cstdint>
#include <optional>

#include "ttdb/replay/engine.h"

namespace ttdb::gdb {

class ServedProcess {
 public:
  // Process `number` as `ttdb info` and the shell number them; throws Error
  // when the recording has no such process.
  ServedProcess(Engine& engine, int number);

  // Moves to the process's first instruction (the start of its history).
  void go_to_start();
  // Looks at the process, if it is live here.
  bool select();
  // The engine's last stop was the process's own.
  bool stopped_in_it();
  const Position& start() const { return start_; }
  // How the process ended, once the replay is past its end.
  std::optional<WaitStatus> ended();

 private:
  Engine& engine_;
  int number_;
  std::int64_t birth_ = 0;            // the event after which it is live
  std::optional<trace::Event> exit_;  // its first thread's exit event
  Position start_;
};

}  // namespace ttdb::gdb
