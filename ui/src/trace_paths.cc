#include "trace_paths.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <system_error>

#include "ttdb/base/error.h"
#include "ttdb/base/parse.h"

namespace ttdb {
namespace fs = std::filesystem;

std::string default_trace_dir() {
  if (const char* dir = std::getenv("TTDB_TRACE_DIR"); dir && *dir) return dir;
  if (const char* data = std::getenv("XDG_DATA_HOME"); data && *data) return std::string(data) + "/ttdb";
  const char* home = std::getenv("HOME");
  if (!home || !*home) {
    const passwd* pw = ::getpwuid(::getuid());
    home = pw ? pw->pw_dir : "/tmp";
  }
  return std::string(home) + "/.local/share/ttdb";
}

std::string new_trace_path(const std::string& program) {
  fs::path dir = default_trace_dir();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("cannot create the trace directory {}: {}; set TTDB_TRACE_DIR or use -o", dir.string(), ec.message());
  std::string base = fs::path(program).filename().string();
  // The next number after the highest one in use for this program.
  std::uint64_t highest = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with(base + "-") || !name.ends_with(".ttdb")) continue;
    auto n = parse_uint(std::string_view(name).substr(base.size() + 1, name.size() - base.size() - 6));
    if (n && *n < std::numeric_limits<std::uint64_t>::max() / 2) highest = std::max(highest, *n);
  }
  // Another recorder may take that number first: then the next one.
  for (std::uint64_t n = highest + 1;; ++n) {
    std::string path = (dir / fmt::format("{}-{}.ttdb", base, n)).string();
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::close(fd);
      return path;
    }
    if (errno != EEXIST) fail("cannot create trace {}: {}; set TTDB_TRACE_DIR or use -o", path, errno_text(errno));
  }
}

void update_latest_link(const std::string& trace_path) {
  fs::path trace(trace_path);
  fs::path dir = trace.parent_path().empty() ? fs::path(".") : trace.parent_path();
  fs::path link = dir / "latest";
  fs::path temp = dir / fmt::format(".latest.{}", ::getpid());
  std::error_code ec;
  fs::remove(temp, ec);
  fs::create_symlink(trace.filename(), temp, ec);
  if (!ec) fs::rename(temp, link, ec);  // atomic: readers see the old or the new link
}

std::string latest_trace() {
  fs::path link = fs::path(default_trace_dir()) / "latest";
  std::error_code ec;
  if (!fs::exists(link, ec))
    fail("there is no latest trace in {}; record one with 'ttdb record PROG' or name a trace", link.parent_path().string());
  return fs::canonical(link, ec).string();
}

}  // namespace ttdb
