#include "fd_streams.h"

#include <asm/unistd_64.h>
#include <fcntl.h>
#include <linux/close_range.h>

#include <cstring>

#include "ttdb/tracer/syscall_table.h"

namespace ttdb {

int FdStreams::stream_of(std::uint64_t fd) const {
  auto found = streams_.find(fd);
  return found == streams_.end() ? 0 : found->second;
}

void FdStreams::set(std::uint64_t fd, int stream) {
  if (stream == 0) streams_.erase(fd);
  else streams_[fd] = stream;
}

void FdStreams::annotate(trace::Event& e) {
  if (e.kind == trace::EventKind::exec) {
    *this = FdStreams();
    return;
  }
  if (e.kind != trace::EventKind::syscall) return;
  switch (e.nr) {
    case __NR_write: case __NR_writev: case __NR_pwrite64: case __NR_pwritev: case __NR_pwritev2:
      if (e.digest) e.emit = stream_of(e.args[0]);
      break;
    default: break;
  }
  if (e.ret && *e.ret >= 0) after_syscall(e);
}

void FdStreams::after_syscall(const trace::Event& e) {
  const auto& a = e.args;
  auto fd = static_cast<std::uint64_t>(*e.ret);
  switch (e.nr) {
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
    case __NR_socketpair:
      // The two new descriptors are what the kernel wrote.
      for (const auto& m : e.mem) {
        int fds[2] = {-1, -1};
        if (m.data.size() != sizeof fds) continue;
        std::memcpy(fds, m.data.data(), sizeof fds);
        set(static_cast<std::uint64_t>(fds[0]), 0);
        set(static_cast<std::uint64_t>(fds[1]), 0);
      }
      return;
    default:
      if (const SyscallInfo* info = find_syscall(e.nr); info && info->ret_fd) set(fd, 0);
  }
}

}  // namespace ttdb
