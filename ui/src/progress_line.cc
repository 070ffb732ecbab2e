#include "progress_line.h"

#include <fmt/format.h>
#include <time.h>
#include <unistd.h>

#include "ttdb/base/unique_fd.h"

namespace ttdb {
namespace {

// The coarse clock: read at every event, it must cost next to nothing.
std::int64_t now_ms() {
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1000 + t.tv_nsec / 1'000'000;
}

// Events closer than this belong to one run of replay; a longer pause is
// the user at the prompt, or the program's own wait.
constexpr std::int64_t kPauseMs = 250;
constexpr std::int64_t kShowAfterMs = 1000;
constexpr std::int64_t kRedrawMs = 100;

}  // namespace

ProgressLine::ProgressLine() : terminal_(::isatty(STDERR_FILENO) == 1) {}

void ProgressLine::at_event(std::int64_t event, std::int64_t events) {
  if (!terminal_) return;
  std::int64_t now = now_ms();
  if (now - last_event_ms_ > kPauseMs) {
    erase();
    started_ms_ = now;
  }
  last_event_ms_ = now;
  if (now - started_ms_ < kShowAfterMs || (shown_ && now - drawn_ms_ < kRedrawMs)) return;
  int percent = events > 0 ? static_cast<int>(event * 100 / events) : 0;
  std::string text = fmt::format("\rttdb: replaying event {} of {} ({}%)\x1b[K", event, events, percent);
  write_all(STDERR_FILENO, as_bytes(text));
  shown_ = true;
  drawn_ms_ = now;
}

void ProgressLine::erase() {
  if (!shown_) return;
  shown_ = false;
  write_all(STDERR_FILENO, as_bytes(std::string_view("\r\x1b[K")));
}

ErasingBuf::int_type ErasingBuf::overflow(int_type c) {
  line_.erase();
  return traits_type::eq_int_type(c, traits_type::eof()) ? traits_type::not_eof(c) : to_->sputc(traits_type::to_char_type(c));
}

std::streamsize ErasingBuf::xsputn(const char* s, std::streamsize n) {
  line_.erase();
  return to_->sputn(s, n);
}

}  // namespace ttdb
