#include "ttdb/tracer/proc_maps.h"

#include <sys/sysmacros.h>

#include <fmt/format.h>
#include <sys/mman.h>

#include <cinttypes>
#include <cstdio>
#include <functional>
#include <fstream>
#include <sstream>

#include "ttdb/base/error.h"

namespace ttdb {

std::vector<Mapping> read_maps(pid_t pid) {
  std::string path = fmt::format("/proc/{}/maps", pid);
  std::ifstream in(path);
  if (!in) fail("cannot read {}", path);
  std::vector<Mapping> out;
  std::string line;
  while (std::getline(in, line)) {
    Mapping m;
    char perms[5] = {};
    unsigned dev_major = 0, dev_minor = 0;
    int name_start = 0;
    if (std::sscanf(line.c_str(), "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n",
                    &m.start, &m.end, perms, &m.offset, &dev_major, &dev_minor, &m.inode,
                    &name_start) < 7)
      continue;
    m.readable = perms[0] == 'r';
    m.writable = perms[1] == 'w';
    m.executable = perms[2] == 'x';
    m.shared = perms[3] == 's';
    m.dev = makedev(dev_major, dev_minor);
    if (name_start > 0 && static_cast<std::size_t>(name_start) < line.size())
      m.path = line.substr(static_cast<std::size_t>(name_start));
    out.push_back(std::move(m));
  }
  return out;
}

namespace {

// Each mapping's range and VmFlags in /proc/PID/smaps, to `each` until it
// returns false. False when the file cannot be read.
bool each_vm_flags(pid_t pid,
                   const std::function<bool(std::uint64_t start, std::uint64_t end, const std::vector<std::string>& flags)>& each) {
  std::ifstream in(fmt::format("/proc/{}/smaps", pid));
  if (!in) return false;
  std::uint64_t start = 0, end = 0;
  std::string line;
  while (std::getline(in, line)) {
    std::uint64_t a = 0, b = 0;
    if (std::sscanf(line.c_str(), "%" SCNx64 "-%" SCNx64 " ", &a, &b) == 2) {
      start = a;
      end = b;
      continue;
    }
    if (line.rfind("VmFlags:", 0) != 0) continue;
    std::istringstream words(line.substr(8));
    std::vector<std::string> flags;
    for (std::string flag; words >> flag;) flags.push_back(flag);
    if (!each(start, end, flags)) break;
  }
  return true;
}

}  // namespace

std::vector<ForkAdvice> read_fork_advice(pid_t pid) {
  std::vector<ForkAdvice> out;
  bool read = each_vm_flags(pid, [&](std::uint64_t start, std::uint64_t end, const std::vector<std::string>& flags) {
    for (const auto& flag : flags) {
      if (flag == "dc") out.push_back({start, end, MADV_DONTFORK});
      if (flag == "wf") out.push_back({start, end, MADV_WIPEONFORK});
    }
    return true;
  });
  if (!read) fail("cannot read /proc/{}/smaps", pid);
  return out;
}

std::optional<std::vector<std::string>> mapping_flags(pid_t pid, std::uint64_t addr) {
  std::optional<std::vector<std::string>> found;
  each_vm_flags(pid, [&](std::uint64_t start, std::uint64_t end, const std::vector<std::string>& flags) {
    if (addr >= start && addr < end) found = flags;
    return !found;
  });
  return found;
}

std::optional<Mapping> mapping_containing(const std::vector<Mapping>& maps, std::uint64_t addr) {
  for (const auto& m : maps)
    if (addr >= m.start && addr < m.end) return m;
  return std::nullopt;
}

std::optional<std::uint64_t> fd_position(pid_t tid, int fd) {
  std::ifstream in(fmt::format("/proc/{}/fdinfo/{}", tid, fd));
  std::string key;
  std::uint64_t pos = 0;
  while (in >> key)
    if (key == "pos:" && in >> pos) return pos;
  return std::nullopt;
}

std::string stat_fields(pid_t tid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", tid));
  std::string line;
  std::getline(stat, line);
  // The command's name, in parentheses, may hold anything: the fields follow it.
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() ? line.substr(close + 2) : std::string();
}

char task_state(pid_t tid) {
  std::string fields = stat_fields(tid);
  return fields.empty() ? 0 : fields[0];
}

}  // namespace ttdb
