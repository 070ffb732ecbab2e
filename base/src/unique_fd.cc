#include "ttdb/base/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "ttdb/base/error.h"

namespace ttdb {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Pipe Pipe::create(int flags) {
  int fds[2];
  if (::pipe2(fds, flags) != 0) fail("cannot create a pipe: {}", errno_text(errno));
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace ttdb
