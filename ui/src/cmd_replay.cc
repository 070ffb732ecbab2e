#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "commands.h"
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
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // The replay itself goes on; a stdout that cannot be written is reported at the end.
      if (n < 0 && errno != EPIPE && fd == STDOUT_FILENO && !g_sink_failure) g_sink_failure = errno;
      return;
    }
    done += static_cast<std::size_t>(n);
  }
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
