#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "commands.h"
#include "ttdb/base/unique_fd.h"
#include "trace_paths.h"
#include "ttdb/replay/replay.h"
#include "ttdb/ui/cli.h"

namespace ttdb {
namespace {
int g_sink_failure = 0;
}

int fd_sink_failure() { return g_sink_failure; }

// The program's output goes straight to ttdb's own stdout and stderr, as the
// program produces it.
void FdSink::write(int stream, ByteView bytes) {
  int fd = stream == 2 ? STDERR_FILENO : STDOUT_FILENO;
  progress_.erase();
  // The replay itself goes on; a stdout that cannot be written is reported at the end.
  int error = write_all(fd, bytes);
  if (error && error != EPIPE && fd == STDOUT_FILENO && !g_sink_failure) g_sink_failure = error;
}

std::optional<std::int64_t> FdSink::base() {
  if (!asked_) {
    asked_ = true;
    struct stat st {};
    off_t at = ::lseek(STDOUT_FILENO, 0, SEEK_CUR);
    if (::fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && at >= 0) base_ = at;
  }
  return base_;
}

void FdSink::write_at(int stream, std::int64_t offset, std::int64_t position, ByteView bytes) {
  auto from = base();
  if (stream != 1 || !from || *from + offset < 0) return write(stream, bytes);
  if (int error = write_all(STDOUT_FILENO, bytes, static_cast<std::uint64_t>(*from + offset))) {
    if (!g_sink_failure) g_sink_failure = error;
    return;
  }
  seek(stream, position);
}

void FdSink::seek(int stream, std::int64_t position) {
  if (auto from = base(); stream == 1 && from && *from + position >= 0) ::lseek(STDOUT_FILENO, *from + position, SEEK_SET);
}

void FdSink::truncate(int stream, std::int64_t size) {
  if (auto from = base(); stream == 1 && from && *from + size >= 0 && ::ftruncate(STDOUT_FILENO, *from + size) != 0 &&
                          !g_sink_failure)
    g_sink_failure = errno;
}

std::string trace_or_latest(const std::string& named) { return named.empty() ? latest_trace() : named; }

int run_replay(const ReplayArgs& args) {
  if (!args.run) return run_shell(args);
  if (!args.script.empty()) throw UsageError("--run replays to the end; it takes no -x or -ex");
  std::string path = trace_or_latest(args.trace);
  FdSink sink;
  Replayer replayer(path, sink);
  try {
    ReplayEnd end = replayer.run_to_end();
    sink.progress().erase();
    if (end.kind == ReplayEnd::Kind::incomplete) {
      std::fprintf(stderr, "ttdb: the recording ends at event %lld (%s); replay stopped there\n",
                   static_cast<long long>(end.last_event), end.reason.c_str());
      return kExitIncomplete;
    }
    return end.status.shell_status();
  } catch (const Divergence& d) {
    std::fprintf(stderr, "ttdb: %s\n", d.what());
    return kExitDiverged;
  }
}

}  // namespace ttdb
