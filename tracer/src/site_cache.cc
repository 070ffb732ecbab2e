#include "site_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "ttdb/base/log.h"
#include "ttdb/base/unique_fd.h"
#include "ttdb/tracer/file_catalog.h"

namespace ttdb {
namespace {

// Bump when find_syscall_sites finds other sites in the same bytes.
constexpr int kSearchVersion = 1;

// Sites relative to where their code is mapped, and back.
std::vector<SyscallSite> moved(std::vector<SyscallSite> sites, std::uint64_t from, std::uint64_t to) {
  for (auto& site : sites) {
    site.addr = site.addr - from + to;
    for (auto& insn : site.after)
      if (insn.op == DisplacedInsn::Op::jcc) insn.target = insn.target - from + to;
  }
  return sites;
}

// Makes the directory and those above it, as `mkdir -p` (XDG_CACHE_HOME and
// ~/.cache need not exist yet on a fresh machine).
bool make_dir(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  return !error && std::filesystem::is_directory(path, error);
}

}  // namespace

SiteCache::SiteCache() {
  std::string base;
  if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache && *cache) base = cache;
  else if (const char* home = std::getenv("HOME"); home && *home) base = std::string(home) + "/.cache";
  if (!base.empty() && make_dir(base + "/ttdb")) dir_ = base + "/ttdb";
}

std::string SiteCache::path(const ContentHash& file, std::uint64_t offset, std::uint64_t size) const {
  return fmt::format("{}/sites-{}-{:x}-{:x}-v{}", dir_, to_hex(file), offset, size, kSearchVersion);
}

std::optional<std::vector<SyscallSite>> SiteCache::load(const ContentHash& file, std::uint64_t offset,
                                                        std::uint64_t size, std::uint64_t start) const {
  if (dir_.empty()) return std::nullopt;
  auto bytes = read_whole_file(path(file, offset, size));
  if (!bytes) return std::nullopt;
  auto sites = deserialize_sites(*bytes);
  if (!sites) return std::nullopt;
  return moved(std::move(*sites), 0, start);
}

void SiteCache::store(const ContentHash& file, std::uint64_t offset, std::uint64_t size, std::uint64_t start,
                      const std::vector<SyscallSite>& sites) const {
  if (dir_.empty()) return;
  Bytes bytes = serialize_sites(moved(sites, start, 0));
  // Whole or not at all: written aside, then renamed into place.
  std::string final_path = path(file, offset, size);
  std::string temporary = fmt::format("{}.{}", final_path, ::getpid());
  UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return;
  bool written = ::write(fd.get(), bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  fd.reset();
  if (!written || ::rename(temporary.c_str(), final_path.c_str()) != 0) ::unlink(temporary.c_str());
  else TTDB_LOG(record, "{} syscall sites kept in {}", sites.size(), final_path);
}

}  // namespace ttdb
