// "ttdb: replaying event N of M" on stderr while replay runs on for more than
// a second without stopping (replay --run, a long motion in the shell), when
// stderr is a terminal; erased before anything else is written there.
#pragma once

#include <cstdint>
#include <ostream>
#include <streambuf>

namespace ttdb {

class ProgressLine {
 public:
  ProgressLine();
  ~ProgressLine() { erase(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void at_event(std::int64_t event, std::int64_t events);
  // Erases the line, if it is shown.
  void erase();

 private:
  bool terminal_;
  bool shown_ = false;
  std::int64_t started_ms_ = 0;   // when events began to flow this time
  std::int64_t last_event_ms_ = -1'000'000;
  std::int64_t drawn_ms_ = 0;
};

// A stream buffer that erases the progress line before it passes anything
// on to `to`: the shell's own output goes through one.
class ErasingBuf : public std::streambuf {
 public:
  ErasingBuf(ProgressLine& line, std::streambuf* to) : line_(line), to_(to) {}

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override { return to_->pubsync(); }

 private:
  ProgressLine& line_;
  std::streambuf* to_;
};

}  // namespace ttdb
