// What the engine tests share: a recorded program with an engine on its
// trace, and the addresses of its symbols.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "process.h"
#include "ttdb/replay/engine.h"
#include "ttdb_test.h"

namespace ttdb::test {

// PIE programs load here when address randomisation is off, as under ttdb.
constexpr std::uint64_t kPieBase = 0x555555554000;

class NullSink : public OutputSink {
 public:
  void write(int, ByteView bytes) override { output.append(bytes.begin(), bytes.end()); }
  std::string output;
};

inline std::uint64_t symbol(const std::string& program_path, const std::string& name) {
  RunResult nm = run({"nm", program_path});
  std::size_t at = nm.out.find(" " + name + "\n");
  if (at == std::string::npos) throw std::runtime_error("no symbol " + name);
  std::size_t start = nm.out.rfind('\n', at) + 1;
  return kPieBase + std::stoull(nm.out.substr(start, 16), nullptr, 16);
}

// Records `command` and opens an engine on its trace.
class RecordedProgram : public ::testing::Test {
 protected:
  void start(const std::vector<std::string>& command, const RunOptions& options = {}, bool buffered_from_start = false) {
    trace_ = dir_.file("t.ttdb");
    RunResult recorded = buffered_from_start ? record_buffered(trace_, command, options) : record(trace_, command, options);
    ASSERT_EQ(recorded.status, 0) << recorded.err;
    recorded_output_ = recorded.out;
    engine_ = std::make_unique<Engine>(trace_, sink_);
  }

  Registers regs() { return engine_->registers(); }

  TempDir dir_;
  std::string trace_;
  std::string recorded_output_;
  NullSink sink_;
  std::unique_ptr<Engine> engine_;
};

inline bool same_registers(const Registers& a, const Registers& b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace ttdb::test
