#include "shared_files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ttdb/base/error.h"
#include "ttdb/tracer/proc_maps.h"

namespace ttdb {

SharedFiles::Copy& SharedFiles::copy(const trace::FileIdentity& file) {
  auto found = copies_.find(file);
  if (found != copies_.end()) return found->second;
  UniqueFd fd(::memfd_create("ttdb-shared-file", MFD_CLOEXEC));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0)
    fail("cannot make replay's copy of a file the program mapped shared: {}; free some memory and replay again",
         errno_text(errno));
  Copy made{std::move(fd), st.st_dev, st.st_ino};
  return copies_.emplace(file, std::move(made)).first->second;
}

std::string SharedFiles::path(const trace::FileIdentity& file) {
  return fmt::format("/proc/{}/fd/{}", ::getpid(), copy(file).fd.get());
}

void SharedFiles::write(const trace::FileIdentity& file, std::uint64_t offset, ByteView bytes) {
  if (int error = write_all(copy(file).fd.get(), bytes, offset))
    fail("cannot write replay's copy of a file the program mapped shared: {}", errno_text(error));
}

void SharedFiles::resize(const trace::FileIdentity& file, std::uint64_t size) {
  if (::ftruncate(copy(file).fd.get(), static_cast<off_t>(size)) != 0)
    fail("cannot resize replay's copy of a file the program mapped shared: {}", errno_text(errno));
}

bool SharedFiles::allocate(const trace::FileIdentity& file, int mode, std::uint64_t offset, std::uint64_t length) {
  int fd = copy(file).fd.get();
  if (::fallocate(fd, mode, static_cast<off_t>(offset), static_cast<off_t>(length)) == 0) return true;
  // The copy is a memfd (tmpfs), which has no FALLOC_FL_ZERO_RANGE: a hole
  // punched reads as zeros too, and the file grows as the call grew it.
  if (errno != EOPNOTSUPP || !(mode & FALLOC_FL_ZERO_RANGE)) return false;
  if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset), static_cast<off_t>(length)) != 0)
    return false;
  if (!(mode & FALLOC_FL_KEEP_SIZE) && size(file) < offset + length) resize(file, offset + length);
  return true;
}

std::uint64_t SharedFiles::size(const trace::FileIdentity& file) {
  struct stat st {};
  ::fstat(copy(file).fd.get(), &st);
  return static_cast<std::uint64_t>(st.st_size);
}

std::map<trace::FileIdentity, Bytes> SharedFiles::contents(std::uint64_t largest) {
  std::map<trace::FileIdentity, Bytes> out;
  for (auto& [file, copy] : copies_) {
    std::uint64_t n = size(file);
    if (n > largest) continue;
    Bytes bytes(n);
    if (::pread(copy.fd.get(), bytes.data(), n, 0) == static_cast<ssize_t>(n)) out.emplace(file, std::move(bytes));
  }
  return out;
}

void SharedFiles::restore(const std::map<trace::FileIdentity, Bytes>& contents) {
  for (const auto& [file, bytes] : contents) {
    resize(file, bytes.size());
    write(file, 0, bytes);
  }
}

bool SharedFiles::write_mapped(pid_t pid, std::uint64_t addr, ByteView bytes) {
  if (copies_.empty()) return false;
  auto m = mapping_containing(read_maps(pid), addr);
  if (!m || !m->shared || addr + bytes.size() > m->end) return false;
  for (auto& [file, copy] : copies_) {
    if (copy.ino != m->inode || copy.dev != m->dev) continue;
    write(file, m->offset + (addr - m->start), bytes);
    return true;
  }
  return false;
}

}  // namespace ttdb
