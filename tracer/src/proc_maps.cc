#include "ttdb/tracer/proc_maps.h"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <functional>
#include <fstream>
#include <sstream>

#include "ttdb/base/error.h"
#include "ttdb/base/unique_fd.h"

namespace ttdb {

namespace {

// Reads a /proc file whole (its size is not known ahead: stat says 0).
std::optional<std::string> read_proc_text(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string text(16 << 10, '\0');
  std::size_t done = 0;
  for (;;) {
    if (text.size() - done < 4096) text.resize(text.size() * 2);
    ssize_t n = ::read(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  text.resize(done);
  return text;
}

// Takes the number in `base` at the front of `line`, and the one separator
// after it.
bool take_number(std::string_view& line, std::uint64_t& value, int base) {
  auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), value, base);
  if (error != std::errc() || end == line.data() + line.size()) return false;
  line.remove_prefix(static_cast<std::size_t>(end - line.data()) + 1);
  return true;
}

// One line of /proc/PID/maps: "start-end perms offset major:minor inode   path".
std::optional<Mapping> parse_maps_line(std::string_view line) {
  Mapping m;
  std::uint64_t major = 0, minor = 0;
  if (!take_number(line, m.start, 16) || !take_number(line, m.end, 16) || line.size() < 5) return std::nullopt;
  m.readable = line[0] == 'r';
  m.writable = line[1] == 'w';
  m.executable = line[2] == 'x';
  m.shared = line[3] == 's';
  line.remove_prefix(5);
  if (!take_number(line, m.offset, 16) || !take_number(line, major, 16) || !take_number(line, minor, 16)) return std::nullopt;
  auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), m.inode, 10);
  if (error != std::errc()) return std::nullopt;
  line.remove_prefix(static_cast<std::size_t>(end - line.data()));
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  m.dev = makedev(static_cast<unsigned>(major), static_cast<unsigned>(minor));
  m.path = line;
  return m;
}

}  // namespace

void add_mapping(std::vector<Mapping>& maps, std::uint64_t start, std::uint64_t end, int prot) {
  Mapping m;
  m.start = start;
  m.end = end;
  m.readable = prot & PROT_READ;
  m.writable = prot & PROT_WRITE;
  m.executable = prot & PROT_EXEC;
  auto at = std::lower_bound(maps.begin(), maps.end(), start, [](const Mapping& x, std::uint64_t a) { return x.start < a; });
  maps.insert(at, std::move(m));
}

// Read at once and parsed by hand: an exec reads the maps half a dozen
// times, and stream parsing with sscanf was a tenth of a shell's recording.
std::vector<Mapping> read_maps(pid_t pid) {
  std::string path = fmt::format("/proc/{}/maps", pid);
  auto text = read_proc_text(path);
  if (!text) fail("cannot read {}", path);
  std::vector<Mapping> out;
  std::string_view rest = *text;
  while (!rest.empty()) {
    std::size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    if (auto m = parse_maps_line(line)) out.push_back(std::move(*m));
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
