// An owned file descriptor, closed when it goes out of scope.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "ttdb/base/bytes.h"

namespace ttdb {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Writes all of `bytes` to `fd` (at `offset` with pwrite, when given), going
// on after EINTR and short writes. Returns 0, or the errno of the write that
// failed (EIO for one that wrote nothing).
int write_all(int fd, ByteView bytes, std::optional<std::uint64_t> offset = std::nullopt);

// The whole content of the file at `path`; nothing when it cannot be opened
// (errno says why).
std::optional<Bytes> read_whole_file(const std::string& path);

// A pipe whose both ends are owned.
struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;
  // Throws ttdb::Error when the kernel refuses.
  static Pipe create(int flags);
};

}  // namespace ttdb
