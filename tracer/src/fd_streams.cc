#include "fd_streams.h"

#include <asm/unistd_64.h>
#include <fcntl.h>
#include <linux/close_range.h>

namespace ttdb {

int FdStreams::stream_of(std::uint64_t fd) const {
  auto found = streams_.find(fd);
  return found == streams_.end() ? 0 : found->second;
}

void FdStreams::set(std::uint64_t fd, int stream) {
  if (stream == 0) streams_.erase(fd);
  else streams_[fd] = stream;
}

void FdStreams::after_syscall(Tracee& tracee, const SyscallInfo* info, const SyscallArgs& call,
                              std::int64_t ret) {
  if (ret < 0) return;
  const auto* a = call.a;
  auto fd = static_cast<std::uint64_t>(ret);
  switch (call.nr) {
    case __NR_close:
      set(a[0], 0);
      return;
    case __NR_dup:
      set(fd, stream_of(a[0]));
      return;
    case __NR_dup2:
    case __NR_dup3:
      set(a[1], stream_of(a[0]));
      return;
    case __NR_fcntl:
      if (a[1] == F_DUPFD || a[1] == F_DUPFD_CLOEXEC) set(fd, stream_of(a[0]));
      return;
    case __NR_close_range:
      if ((a[2] & CLOSE_RANGE_CLOEXEC) == 0)
        std::erase_if(streams_, [&](const auto& entry) { return entry.first >= a[0] && entry.first <= a[1]; });
      return;
    case __NR_pipe:
    case __NR_pipe2:
    case __NR_socketpair: {
      int fds[2] = {-1, -1};
      std::uint64_t where = call.nr == __NR_socketpair ? a[3] : a[0];
      if (tracee.read_some(RemotePtr(where), fds, sizeof fds) == sizeof fds) {
        set(static_cast<std::uint64_t>(fds[0]), 0);
        set(static_cast<std::uint64_t>(fds[1]), 0);
      }
      return;
    }
    default:
      if (info && info->ret_fd) set(fd, 0);
  }
}

}  // namespace ttdb
