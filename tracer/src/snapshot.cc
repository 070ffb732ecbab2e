#include "ttdb/tracer/snapshot.h"

#include <asm/unistd_64.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "ttdb/base/error.h"
#include "ttdb/base/log.h"
#include "ttdb/tracer/inject.h"
#include "ttdb/tracer/syscall_buffer.h"

namespace ttdb {
namespace {

constexpr std::uint64_t kChunk = 64 * 1024;

// Linux 6.7's interface, newer than Debian 12's headers.
constexpr std::uint64_t kFeatureWpUnpopulated = 1u << 13, kFeatureWpAsync = 1u << 15;
struct PageRegion {
  std::uint64_t start, end, categories;
};
struct PmScanArg {
  std::uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages, category_inverted, category_mask,
      category_anyof_mask, return_mask;
};
constexpr unsigned long kPagemapScan = _IOWR('f', 16, PmScanArg);
constexpr std::uint64_t kScanWpMatching = 1, kScanCheckWpAsync = 2;
constexpr std::uint64_t kPageWpAllowed = 1, kPageWritten = 2;
constexpr int kUserModeOnly = 1;  // UFFD_USER_MODE_ONLY: needs no privilege

using Ranges = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

// PAGEMAP_SCAN over [start, end), as many calls as the regions need.
std::optional<Ranges> scan(int pagemap, std::uint64_t start, std::uint64_t end, std::uint64_t flags,
                           std::uint64_t anyof, std::uint64_t category) {
  Ranges out;
  PageRegion regions[256];
  while (start < end) {
    PmScanArg arg{};
    arg.size = sizeof arg;
    arg.flags = flags;
    arg.start = start;
    arg.end = end;
    arg.vec = reinterpret_cast<std::uint64_t>(regions);
    arg.vec_len = std::size(regions);
    arg.category_mask = category;
    arg.category_anyof_mask = anyof;
    arg.return_mask = category | anyof;
    long n = ::ioctl(pagemap, kPagemapScan, &arg);
    if (n < 0) return std::nullopt;
    for (long i = 0; i < n; ++i) out.emplace_back(regions[i].start, regions[i].end);
    if (arg.walk_end <= start) return std::nullopt;  // no progress: the kernel does not walk this
    start = arg.walk_end;
  }
  return out;
}

}  // namespace

bool WrittenPages::start(Tracee& tracee, pid_t process, std::uint64_t inject_at) {
  *this = WrittenPages{};
  process_ = process;
  // The descriptor must be the program's own: a userfaultfd serves the
  // memory of the process that makes it. ttdb takes a copy and closes it
  // there at once, so the program's table of descriptors is as it was.
  std::int64_t fd = inject_syscall(tracee, inject_at, __NR_userfaultfd, {O_CLOEXEC | kUserModeOnly});
  if (fd < 0) return false;
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, process, 0)));
  if (pidfd) uffd_.reset(static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd.get(), static_cast<int>(fd), 0)));
  inject_syscall(tracee, inject_at, __NR_close, {static_cast<std::uint64_t>(fd)});
  if (!uffd_) return false;
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = kFeatureWpAsync | kFeatureWpUnpopulated;
  if (::ioctl(uffd_.get(), UFFDIO_API, &api) != 0) return false;
  pagemap_.reset(::open(fmt::format("/proc/{}/pagemap", tracee.tid()).c_str(), O_RDONLY | O_CLOEXEC));
  return pagemap_.valid();
}

bool WrittenPages::tracked(const Mapping& m) {
  auto allowed = scan(pagemap_.get(), m.start, m.end, 0, kPageWpAllowed, 0);
  if (allowed && allowed->size() == 1 && allowed->front() == std::pair{m.start, m.end}) return true;
  // Not yet (a new mapping, or the first snapshot): write-protect it all,
  // and let the caller copy it all this time.
  uffdio_register reg{};
  reg.range = {m.start, m.end - m.start};
  reg.mode = UFFDIO_REGISTER_MODE_WP;
  if (::ioctl(uffd_.get(), UFFDIO_REGISTER, &reg) != 0) return false;
  uffdio_writeprotect wp{};
  wp.range = {m.start, m.end - m.start};
  wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
  ::ioctl(uffd_.get(), UFFDIO_WRITEPROTECT, &wp);
  return false;
}

Ranges WrittenPages::take(Tracee& tracee, pid_t process, std::uint64_t inject_at, const Mapping& m) {
  Ranges all{{m.start, m.end}};
  if (process != process_ && inject_at && !start(tracee, process, inject_at)) {
    TTDB_LOG(record, "process {} cannot track written pages: its snapshots copy all writable memory", process);
    unavailable_ = true;
  }
  if (unavailable_ || !uffd_ || m.shared || !tracked(m)) return all;
  auto written = scan(pagemap_.get(), m.start, m.end, kScanWpMatching | kScanCheckWpAsync, 0, kPageWritten);
  return written ? *written : all;
}

trace::Event capture_snapshot(Tracee& tracee, WrittenPages* written, pid_t process, std::uint64_t inject_at,
                              const ShimPlace& shim) {
  trace::Event e;
  e.kind = trace::EventKind::snapshot;
  e.tid = tracee.tid();
  Registers regs = tracee.regs();
  Bytes xstate = tracee.xstate();
  e.args[0] = regs.rip;
  e.args[1] = xstate.size();
  const auto* raw = reinterpret_cast<const std::uint8_t*>(&regs);
  e.info.assign(raw, raw + sizeof regs);
  e.info.insert(e.info.end(), xstate.begin(), xstate.end());
  for (const auto& m : read_maps(tracee.tid())) {
    if (!m.writable || !m.readable || m.path == "[vvar]" || m.path == "[vsyscall]") continue;
    // The syscall buffer's state is ttdb's, and differs between recording and
    // replay (and holds the recording's secret).
    if (shim.contains(m.start)) continue;
    Ranges ranges{{m.start, m.end}};
    if (written) ranges = written->take(tracee, process, inject_at, m);
    for (auto [from, to] : ranges)
      for (std::uint64_t at = from; at < to;) {
        // Chunks end at 64 KiB boundaries, so the same chunk of two
        // snapshots lines up and is stored once.
        std::uint64_t end = std::min(to, (at / kChunk + 1) * kChunk);
        trace::MemWrite chunk;
        chunk.addr = at;
        chunk.size = end - at;
        if (auto bytes = tracee.try_read_bytes(RemotePtr(at), chunk.size)) {
          chunk.data = std::move(*bytes);
          e.mem.push_back(std::move(chunk));
        }
        at = end;
      }
  }
  return e;
}

SnapshotRegisters snapshot_registers(const trace::Event& e) {
  SnapshotRegisters out;
  if (e.info.size() != sizeof(Registers) + e.args[1])
    fail("the snapshot at event {} is malformed ({} bytes of registers)", e.id, e.info.size());
  std::memcpy(&out.regs, e.info.data(), sizeof out.regs);
  out.xstate.assign(e.info.begin() + sizeof(Registers), e.info.end());
  return out;
}

}  // namespace ttdb
