#include "fd_streams.h"

#include <asm/unistd_64.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bitset>
#include <cstring>

#include "ttdb/tracer/syscall_table.h"

namespace ttdb {

std::optional<StdoutFile> stdout_file() {
  struct stat out {}, err {};
  if (::fstat(STDOUT_FILENO, &out) != 0 || !S_ISREG(out.st_mode)) return std::nullopt;
  if (::fstat(STDERR_FILENO, &err) == 0 && err.st_dev == out.st_dev && err.st_ino == out.st_ino) return std::nullopt;
  off_t offset = ::lseek(STDOUT_FILENO, 0, SEEK_CUR);
  int flags = ::fcntl(STDOUT_FILENO, F_GETFL);
  if (offset < 0 || flags < 0) return std::nullopt;
  return StdoutFile{offset, out.st_size, (flags & O_APPEND) != 0};
}

int FdStreams::stream_of(const Table& table, std::uint64_t fd) {
  auto found = table.find(fd);
  return found == table.end() ? 0 : found->second;
}

void FdStreams::set(Table& table, std::uint64_t fd, int stream) {
  if (stream == 0) table.erase(fd);
  else table[fd] = stream;
}

FdStreams::Table& FdStreams::table_of(int tid) {
  if (tid == last_tid_ && last_table_) return *last_table_;
  auto& table = processes_[tid];
  if (!table) table = std::make_shared<Table>();
  last_tid_ = tid;
  last_table_ = table.get();
  return *table;
}

namespace {

// The syscalls annotate and after_syscall look at: those that write, move
// output or change which descriptor is which. Looked up for every event
// (a million clock reads), where finding the table and the syscall's
// facts cost more than the rest of the writer's work on them.
constexpr std::size_t kNumbers = 1024;  // (x86-64's run to 462; beyond, looked at anyway)

bool concerns_descriptors(std::int64_t nr) {
  static const std::bitset<kNumbers> concerned = [] {
    std::bitset<kNumbers> set;
    for (int n : {__NR_write, __NR_writev, __NR_pwrite64, __NR_pwritev, __NR_pwritev2, __NR_sendfile, __NR_vmsplice,
                  __NR_copy_file_range, __NR_splice, __NR_lseek, __NR_ftruncate, __NR_fcntl, __NR_close, __NR_dup,
                  __NR_dup2, __NR_dup3, __NR_close_range, __NR_pipe, __NR_pipe2, __NR_socketpair})
      set.set(static_cast<std::size_t>(n));
    for (const SyscallInfo* info : all_syscalls())
      if (info->ret_fd && static_cast<std::size_t>(info->nr) < kNumbers) set.set(static_cast<std::size_t>(info->nr));
    return set;
  }();
  return nr < 0 || nr >= static_cast<std::int64_t>(kNumbers) || concerned[static_cast<std::size_t>(nr)];
}

}  // namespace

void FdStreams::annotate(trace::Event& e) {
  // These change which table a tid has.
  if (e.kind == trace::EventKind::exec || e.kind == trace::EventKind::spawn || e.kind == trace::EventKind::exit)
    last_table_ = nullptr;
  switch (e.kind) {
    case trace::EventKind::exec:
      // The program ttdb started has ttdb's stdout and stderr; a later exec keeps its descriptors.
      if (!processes_.contains(e.tid)) processes_[e.tid] = std::make_shared<Table>(Table{{1, 1}, {2, 2}});
      return;
    case trace::EventKind::spawn: {
      Table& parent = table_of(e.tid);
      processes_[static_cast<int>(e.nr)] = e.args[0] & CLONE_FILES ? processes_[e.tid] : std::make_shared<Table>(parent);
      return;
    }
    case trace::EventKind::exit: processes_.erase(e.tid); return;
    case trace::EventKind::syscall:
      if (!concerns_descriptors(e.nr)) return;
      break;
    default: return;
  }
  Table& table = table_of(e.tid);
  switch (e.nr) {
    case __NR_write: case __NR_writev: case __NR_pwrite64: case __NR_pwritev: case __NR_pwritev2:
      if (e.digest) e.emit = stream_of(table, e.args[0]);
      break;
    // The bytes these moved to ttdb's output are the event's info (moved_output.h).
    case __NR_sendfile: case __NR_vmsplice:
      if (!e.info.empty()) e.emit = stream_of(table, e.args[0]);
      break;
    case __NR_copy_file_range: case __NR_splice:
      if (!e.info.empty()) e.emit = stream_of(table, e.args[2]);
      break;
    // What moves or cuts a stdout that is a file, or makes it append: replay
    // follows where the output goes in it.
    case __NR_lseek: case __NR_ftruncate:
      if (positions_) e.emit = stream_of(table, e.args[0]);
      break;
    case __NR_fcntl:
      if (positions_ && e.args[1] == F_SETFL) e.emit = stream_of(table, e.args[0]);
      break;
    default: break;
  }
  if (e.ret && *e.ret >= 0) after_syscall(table, e);
}

void FdStreams::after_syscall(Table& table, const trace::Event& e) {
  const auto& a = e.args;
  auto fd = static_cast<std::uint64_t>(*e.ret);
  switch (e.nr) {
    case __NR_close:
      set(table, a[0], 0);
      return;
    case __NR_dup:
      set(table, fd, stream_of(table, a[0]));
      return;
    case __NR_dup2:
    case __NR_dup3:
      set(table, a[1], stream_of(table, a[0]));
      return;
    case __NR_fcntl:
      if (a[1] == F_DUPFD || a[1] == F_DUPFD_CLOEXEC) set(table, fd, stream_of(table, a[0]));
      return;
    case __NR_close_range:
      if ((a[2] & CLOSE_RANGE_CLOEXEC) == 0)
        std::erase_if(table, [&](const auto& entry) { return entry.first >= a[0] && entry.first <= a[1]; });
      return;
    case __NR_pipe:
    case __NR_pipe2:
    case __NR_socketpair:
      // The two new descriptors are what the kernel wrote.
      for (const auto& m : e.mem) {
        int fds[2] = {-1, -1};
        if (m.data.size() != sizeof fds) continue;
        std::memcpy(fds, m.data.data(), sizeof fds);
        set(table, static_cast<std::uint64_t>(fds[0]), 0);
        set(table, static_cast<std::uint64_t>(fds[1]), 0);
      }
      return;
    default:
      if (const SyscallInfo* info = find_syscall(e.nr); info && info->ret_fd) set(table, fd, 0);
  }
}

}  // namespace ttdb
