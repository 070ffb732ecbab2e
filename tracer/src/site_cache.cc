#include "site_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "ttdb/base/log.h"
#include "ttdb/base/unique_fd.h"
#include "ttdb/tracer/file_catalog.h"
#include "ttdb/tracer/syscall_table.h"

namespace ttdb {
namespace {

// Bump when find_syscall_sites finds other sites in the same bytes. (Which
// syscalls the shim buffers decides it too: buffering_signature.)
constexpr int kSearchVersion = 7;  // 5: rdtsc sites too; 6: sites that return; 7: sites that move code
// Bump when find_rand_instructions does, or RandSite changes.
constexpr int kRandVersion = 2;

// A RandSite in the cache, its address relative to where its code is mapped.
struct StoredRandSite {
  std::uint64_t offset;
  std::int32_t length, reg, width;
  std::uint8_t insn, first_byte, pad[2];  // NondetInsn
};

// Sites relative to where their code is mapped, and back.
std::vector<SyscallSite> moved(std::vector<SyscallSite> sites, std::uint64_t from, std::uint64_t to) {
  for (auto& site : sites) {
    site.addr = site.addr - from + to;
    for (auto& insn : site.after)
      if (insn.op == DisplacedInsn::Op::jcc) insn.target = insn.target - from + to;
  }
  return sites;
}

// The rdrand/rdseed/rdtsc sites a cache file holds, at `start`; nullopt
// when its bytes are not such sites of code `size` bytes long.
std::optional<std::vector<RandSite>> rand_sites_in(ByteView bytes, std::uint64_t size, std::uint64_t start) {
  if (bytes.size() % sizeof(StoredRandSite)) return std::nullopt;
  std::vector<RandSite> sites(bytes.size() / sizeof(StoredRandSite));
  for (std::size_t i = 0; i < sites.size(); ++i) {
    StoredRandSite stored;
    std::memcpy(&stored, bytes.data() + i * sizeof stored, sizeof stored);
    if (stored.offset >= size) return std::nullopt;
    if (stored.insn > static_cast<std::uint8_t>(NondetInsn::rdtscp)) return std::nullopt;
    sites[i] = RandSite{start + stored.offset, stored.length, static_cast<NondetInsn>(stored.insn), stored.reg, stored.width,
                        stored.first_byte};
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

// Sites found for one table of buffered syscalls are not those for another
// (find_syscall_sites leaves out the sites of syscalls never buffered).
std::uint32_t buffering_signature() {
  static const std::uint32_t signature = [] {
    std::uint32_t h = 2166136261u;  // FNV-1a over (nr, how) pairs
    for (const SyscallInfo* info : all_syscalls())
      for (auto value : {static_cast<std::uint32_t>(info->nr), static_cast<std::uint32_t>(info->buffering)}) {
        h ^= value;
        h *= 16777619u;
      }
    return h;
  }();
  return signature;
}

}  // namespace

const SiteCache& site_cache() {
  static const SiteCache cache;
  return cache;
}

SiteCache::SiteCache() {
  std::string base;
  if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache && *cache) base = cache;
  else if (const char* home = std::getenv("HOME"); home && *home) base = std::string(home) + "/.cache";
  if (!base.empty() && make_dir(base + "/ttdb")) dir_ = base + "/ttdb";
}

std::string SiteCache::path(const ContentHash& file, std::uint64_t offset, std::uint64_t size) const {
  return fmt::format("{}/sites-{}-{:x}-{:x}-v{}-{:08x}", dir_, to_hex(file), offset, size, kSearchVersion,
                     buffering_signature());
}

std::string SiteCache::rand_path(const ContentHash& file, std::uint64_t offset, std::uint64_t size) const {
  return fmt::format("{}/rand-{}-{:x}-{:x}-v{}", dir_, to_hex(file), offset, size, kRandVersion);
}

std::optional<std::vector<SyscallSite>> SiteCache::load(const ContentHash& file, std::uint64_t offset,
                                                        std::uint64_t size, std::uint64_t start) const {
  if (dir_.empty()) return std::nullopt;
  std::string at = path(file, offset, size);
  auto bytes = read_kept(at);
  auto sites = bytes ? deserialize_sites(*bytes) : std::nullopt;
  if (!sites) {
    forget_kept(at);  // (garbage: what the finder stores in its place is read again)
    return std::nullopt;
  }
  return moved(std::move(*sites), 0, start);
}

void SiteCache::store(const ContentHash& file, std::uint64_t offset, std::uint64_t size, std::uint64_t start,
                      const std::vector<SyscallSite>& sites) const {
  if (dir_.empty()) return;
  std::string final_path = path(file, offset, size);
  if (store_bytes(final_path, serialize_sites(moved(sites, start, 0))))
    TTDB_LOG(record, "{} syscall sites kept in {}", sites.size(), final_path);
}

std::optional<std::vector<RandSite>> SiteCache::load_rand(const ContentHash& file, std::uint64_t offset,
                                                          std::uint64_t size, std::uint64_t start) const {
  if (dir_.empty()) return std::nullopt;
  std::string at = rand_path(file, offset, size);
  auto bytes = read_kept(at);
  auto sites = bytes ? rand_sites_in(*bytes, size, start) : std::nullopt;
  if (!sites) forget_kept(at);
  return sites;
}

void SiteCache::store_rand(const ContentHash& file, std::uint64_t offset, std::uint64_t size, std::uint64_t start,
                           const std::vector<RandSite>& sites) const {
  if (dir_.empty()) return;
  Bytes bytes;
  for (const auto& site : sites) {
    StoredRandSite stored{site.addr - start, site.length, site.reg, site.width,
                          static_cast<std::uint8_t>(site.insn), site.first_byte, {0, 0}};
    const auto* raw = reinterpret_cast<const std::uint8_t*>(&stored);
    bytes.insert(bytes.end(), raw, raw + sizeof stored);
  }
  store_bytes(rand_path(file, offset, size), bytes);
}

std::string SiteCache::hash_path(const struct stat& st) const {
  return fmt::format("{}/hash-{:x}-{:x}-{:x}-{:x}.{:x}-{:x}.{:x}", dir_, st.st_dev, st.st_ino, st.st_size,
                     st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

std::optional<ContentHash> SiteCache::load_hash(const struct stat& st) const {
  if (dir_.empty()) return std::nullopt;
  auto bytes = read_whole_file(hash_path(st));
  ContentHash hash{};
  if (!bytes || bytes->size() != hash.size()) return std::nullopt;
  std::copy(bytes->begin(), bytes->end(), hash.begin());
  return hash;
}

void SiteCache::store_hash(const struct stat& st, const ContentHash& hash) const {
  if (!dir_.empty()) store_bytes(hash_path(st), ByteView(hash.data(), hash.size()));
}

std::string SiteCache::buffers_path(const ContentHash& program) const {
  return fmt::format("{}/buffers-{}", dir_, to_hex(program));
}

bool SiteCache::buffers(const ContentHash& program) const {
  struct stat st;
  return !dir_.empty() && ::stat(buffers_path(program).c_str(), &st) == 0;
}

void SiteCache::note_buffers(const ContentHash& program) const {
  if (!dir_.empty() && !buffers(program)) store_bytes(buffers_path(program), ByteView());
}

void SiteCache::forget_buffers(const ContentHash& program) const {
  if (!dir_.empty()) ::unlink(buffers_path(program).c_str());
}

std::string SiteCache::vdso_path(const ContentHash& vdso, const std::string& how) const {
  return fmt::format("{}/vdso-{}-{}", dir_, to_hex(vdso), how);
}

std::optional<Bytes> SiteCache::load_vdso(const ContentHash& vdso, const std::string& how) const {
  if (dir_.empty()) return std::nullopt;
  return read_whole_file(vdso_path(vdso, how));
}

void SiteCache::store_vdso(const ContentHash& vdso, const std::string& how, ByteView treated) const {
  if (!dir_.empty()) store_bytes(vdso_path(vdso, how), treated);
}

std::optional<Bytes> SiteCache::read_kept(const std::string& path) const {
  {
    std::lock_guard lock(kept_mutex_);
    if (auto found = kept_.find(path); found != kept_.end()) return found->second;
  }
  auto bytes = read_whole_file(path);
  if (!bytes) return std::nullopt;  // (not kept: the finder may store it later)
  std::lock_guard lock(kept_mutex_);
  kept_.insert_or_assign(path, *bytes);
  return bytes;
}

void SiteCache::forget_kept(const std::string& path) const {
  std::lock_guard lock(kept_mutex_);
  kept_.erase(path);
}

bool SiteCache::store_bytes(const std::string& final_path, ByteView bytes) const {
  forget_kept(final_path);
  std::string temporary = fmt::format("{}.{}", final_path, ::getpid());
  UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return false;
  bool written = write_all(fd.get(), bytes) == 0;
  fd.reset();
  if (written && ::rename(temporary.c_str(), final_path.c_str()) == 0) return true;
  ::unlink(temporary.c_str());
  return false;
}

}  // namespace ttdb
