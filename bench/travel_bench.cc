// Time travel's speed on a long recording: goto event, reverse-stepi and
// reverse-continue, timed through the engine's API (the shell adds only
// printing). Prints a markdown table; bench/README.md says how to run it.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "ttdb/base/error.h"
#include "ttdb/replay/engine.h"

namespace {

using Clock = std::chrono::steady_clock;

class NullSink : public ttdb::OutputSink {
 public:
  void write(int, ttdb::ByteView) override {}
};

double ms_since(Clock::time_point start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double percentile90(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() * 9 / 10];
}

// The address of a global in the (PIE) program, as replay loads it.
std::uint64_t symbol(const std::string& program, const std::string& name) {
  std::string command = "nm " + program;
  FILE* nm = popen(command.c_str(), "r");
  char line[512];
  std::uint64_t found = 0;
  while (nm && fgets(line, sizeof line, nm)) {
    std::string text(line);
    if (text.size() > 19 && text.substr(19) == name + "\n") found = std::stoull(text.substr(0, 16), nullptr, 16);
  }
  if (nm) pclose(nm);
  if (!found) ttdb::fail("no symbol {} in {}", name, program);
  return 0x555555554000 + found;
}

void travel(const std::string& trace, int samples) {
  NullSink sink;
  auto start = Clock::now();
  ttdb::Engine engine(trace, sink);
  double open_ms = ms_since(start);
  std::int64_t last = engine.event_count() - 1;
  start = Clock::now();
  engine.goto_event(last);
  double first_pass_ms = ms_since(start);
  fmt::print("trace: {} events; opening {:.0f} ms; first pass to the end {:.0f} ms ({} checkpoints, {} MiB private)\n\n",
             engine.event_count(), open_ms, first_pass_ms, engine.checkpoint_count(), engine.checkpoint_memory_kib() / 1024);

  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> any_event(2, last);
  std::vector<double> gotos;
  for (int i = 0; i < samples; ++i) {
    std::int64_t n = any_event(rng);
    start = Clock::now();
    engine.goto_event(n);
    gotos.push_back(ms_since(start));
  }

  // reverse-stepi at a random event, 300 instructions into the work between
  // events, five times in a row.
  std::vector<double> first_rsi, next_rsi;
  for (int i = 0; i < samples / 3; ++i) {
    engine.goto_event(any_event(rng));
    for (int s = 0; s < 300; ++s) engine.stepi(ttdb::Direction::forward);
    for (int s = 0; s < 5; ++s) {
      start = Clock::now();
      engine.stepi(ttdb::Direction::backward);
      (s == 0 ? first_rsi : next_rsi).push_back(ms_since(start));
    }
  }

  fmt::print("| operation | samples | median | 90th percentile |\n| --- | --- | --- | --- |\n");
  fmt::print("| goto event N (random N) | {} | {:.1f} ms | {:.1f} ms |\n", gotos.size(), median(gotos), percentile90(gotos));
  fmt::print("| reverse-stepi, first after a goto | {} | {:.1f} ms | {:.1f} ms |\n", first_rsi.size(), median(first_rsi),
             percentile90(first_rsi));
  fmt::print("| reverse-stepi, following ones | {} | {:.1f} ms | {:.1f} ms |\n", next_rsi.size(), median(next_rsi),
             percentile90(next_rsi));

}

// reverse-continue to the last change of `milestone` from points at known
// distances after it: the time should follow the distance, not the trace's length.
void reverse_continue_costs(const std::string& trace, const std::string& program) {
  NullSink sink;
  ttdb::Engine engine(trace, sink);
  std::int64_t last = engine.event_count() - 1;
  engine.goto_event(last);  // the first pass makes the checkpoints
  engine.add_watchpoint(symbol(program, "milestone"), 8);
  engine.goto_event(last - 100);
  engine.resume(ttdb::Direction::backward);
  std::int64_t change = engine.event();
  for (std::int64_t distance : {10, 100, 1000, 10000}) {
    if (change + distance > last) break;
    engine.goto_event(change + distance);
    auto start = Clock::now();
    ttdb::Stop stop = engine.resume(ttdb::Direction::backward);
    double took = ms_since(start);
    bool right = stop.kind == ttdb::Stop::Kind::watchpoint && engine.event() == change;
    fmt::print("| {} events | {} | {:.1f} ms{} |\n", engine.event_count(), distance, took, right ? "" : " (landed elsewhere!)");
  }
}

// The sequence of issue 11 on a recording of tests/programs/long_loop.c: a
// watchpoint that fires three quarters into a loop without syscalls, three
// reverse-stepi, three stepi, reverse-continue; each command timed.
void long_loop(const std::string& trace, const std::string& program) {
  NullSink sink;
  ttdb::Engine engine(trace, sink);
  engine.add_watchpoint(symbol(program, "marker"), 8);
  fmt::print("| command | took | stopped |\n| --- | --- | --- |\n");
  double total = 0;
  auto timed = [&](const char* name, auto&& command) {
    auto start = Clock::now();
    ttdb::Stop stop = command();
    double took = ms_since(start);
    total += took;
    static const char* kinds[] = {"none", "event", "breakpoint", "watchpoint", "step", "signal", "start", "end", "interrupted"};
    fmt::print("| {} | {:.0f} ms | {} |\n", name, took, kinds[static_cast<int>(stop.kind)]);
  };
  timed("continue", [&] { return engine.resume(ttdb::Direction::forward); });
  for (int i = 0; i < 3; ++i) timed("reverse-stepi", [&] { return engine.stepi(ttdb::Direction::backward); });
  for (int i = 0; i < 3; ++i) timed("stepi", [&] { return engine.stepi(ttdb::Direction::forward); });
  timed("reverse-continue", [&] { return engine.resume(ttdb::Direction::backward); });
  fmt::print("| all | {:.0f} ms | |\n", total);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--long-loop") {
    try {
      long_loop(argv[3], argv[2]);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "travel_bench: %s\n", e.what());
      return 1;
    }
    return 0;
  }
  if (argc < 4) {
    std::fprintf(stderr, "usage: travel_bench PROGRAM LONG_TRACE SHORT_TRACE [SAMPLES]\n"
                         "       travel_bench --long-loop PROGRAM TRACE\n");
    return 2;
  }
  try {
    travel(argv[2], argc > 4 ? std::atoi(argv[4]) : 30);
    fmt::print("\n| recording | distance back (events) | reverse-continue |\n| --- | --- | --- |\n");
    reverse_continue_costs(argv[3], argv[1]);
    reverse_continue_costs(argv[2], argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "travel_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
