#include "moved_output.h"

#include <asm/unistd_64.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "ttdb/base/unique_fd.h"
#include "ttdb/tracer/proc_maps.h"

namespace ttdb {
namespace {

std::optional<struct stat> stat_of(pid_t tid, std::uint64_t fd) {
  struct stat st {};
  if (::stat(fmt::format("/proc/{}/fd/{}", tid, fd).c_str(), &st) != 0) return std::nullopt;
  return st;
}

// Whether the program's descriptor is the file ttdb's own stdout or stderr is.
bool is_ttdb_output(pid_t tid, std::uint64_t fd) {
  auto st = stat_of(tid, fd);
  if (!st) return false;
  for (int ours : {STDOUT_FILENO, STDERR_FILENO}) {
    struct stat mine {};
    if (::fstat(ours, &mine) == 0 && mine.st_dev == st->st_dev && mine.st_ino == st->st_ino) return true;
  }
  return false;
}

// The `count` bytes a call read from descriptor `fd` of the program: from
// `*offset_ptr` (updated by the call) when it gave one, else from the
// descriptor's position (advanced by the call).
std::optional<Bytes> bytes_read_from(Tracee& t, std::uint64_t fd, std::uint64_t offset_ptr, std::uint64_t count) {
  std::optional<std::uint64_t> end;
  if (offset_ptr) {
    if (auto word = t.try_read_bytes(RemotePtr(offset_ptr), 8)) std::memcpy(&end.emplace(), word->data(), 8);
  } else {
    end = fd_position(t.tid(), static_cast<int>(fd));
  }
  if (!end || *end < count) return std::nullopt;
  UniqueFd file(::open(fmt::format("/proc/{}/fd/{}", t.tid(), fd).c_str(), O_RDONLY | O_CLOEXEC));
  if (!file.valid()) return std::nullopt;
  Bytes out(count);
  std::size_t done = 0;
  while (done < count) {
    ssize_t n = ::pread(file.get(), out.data() + done, count - done, static_cast<off_t>(*end - count + done));
    if (n <= 0) return std::nullopt;
    done += static_cast<std::size_t>(n);
  }
  return out;
}

}  // namespace

std::optional<std::uint64_t> moved_into(const SyscallArgs& call) {
  switch (call.nr) {
    case __NR_sendfile: case __NR_vmsplice: return call.a[0];
    case __NR_copy_file_range: case __NR_splice: return call.a[2];
    case __NR_tee: return call.a[1];
    default: return std::nullopt;
  }
}

std::variant<std::monostate, Bytes, Unseeable> output_moved(Tracee& t, const SyscallArgs& call, std::int64_t ret) {
  auto into = moved_into(call);
  if (!into || ret <= 0 || !is_ttdb_output(t.tid(), *into)) return {};
  auto count = static_cast<std::uint64_t>(ret);
  std::optional<Bytes> bytes;
  switch (call.nr) {
    case __NR_vmsplice: {
      bytes.emplace();
      for (std::uint64_t i = 0; i < call.a[2] && bytes->size() < count; ++i) {
        auto raw = t.try_read_bytes(RemotePtr(call.a[1] + i * sizeof(struct iovec)), sizeof(struct iovec));
        if (!raw) return Unseeable{"from buffers ttdb could not read"};
        struct iovec iov_value {};
        std::memcpy(&iov_value, raw->data(), sizeof iov_value);
        auto* iov = &iov_value;
        std::size_t n = std::min<std::size_t>(iov->iov_len, count - bytes->size());
        auto part = t.try_read_bytes(RemotePtr(reinterpret_cast<std::uint64_t>(iov->iov_base)), n);
        if (!part) return Unseeable{"from buffers ttdb could not read"};
        bytes->insert(bytes->end(), part->begin(), part->end());
      }
      break;
    }
    case __NR_sendfile: bytes = bytes_read_from(t, call.a[1], call.a[2], count); break;
    case __NR_copy_file_range:
    case __NR_splice: {
      auto source = stat_of(t.tid(), call.a[0]);
      if (source && (S_ISFIFO(source->st_mode) || S_ISSOCK(source->st_mode)))
        return Unseeable{"from a pipe or socket, whose bytes are gone once moved"};
      bytes = bytes_read_from(t, call.a[0], call.a[1], count);
      break;
    }
    default: return Unseeable{"from another pipe, whose bytes ttdb cannot see"};
  }
  if (!bytes) return Unseeable{"from a file ttdb could not read back"};
  return std::move(*bytes);
}

}  // namespace ttdb
