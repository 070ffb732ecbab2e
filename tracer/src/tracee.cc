#include "ttdb/tracer/tracee.h"

#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>
#include <span>
#include <utility>

#include "ttdb/base/error.h"
#include "ttdb/base/log.h"
#include "ttdb/tracer/inject.h"
#include "ttdb/tracer/ptrace.h"

namespace ttdb {

Tracee::Tracee(pid_t tid) : tid_(tid) { reopen_memory(); }

// Everything goes with it, the stop's state too (a thread ttdb gave a
// skipped call's result is still past that call in its new owner's hands);
// the one left behind owns no thread.
Tracee::Tracee(Tracee&& other) noexcept
    : tid_(std::exchange(other.tid_, -1)),
      mem_(std::move(other.mem_)),
      regs_(other.regs_),
      regs_valid_(other.regs_valid_),
      info_(other.info_),
      exit_(std::exchange(other.exit_, WaitStatus::decode(0))),
      last_resume_(other.last_resume_),
      stray_interrupt_(other.stray_interrupt_),
      at_sysemu_entry_(other.at_sysemu_entry_),
      sysemu_done_(other.sysemu_done_),
      signal_stop_(other.signal_stop_),
      pending_raw_(std::exchange(other.pending_raw_, std::nullopt)),
      injections_stop_at_filter_(other.injections_stop_at_filter_),
      door_(other.door_),
      deferred_signals_(std::move(other.deferred_signals_)),
      ttdb_child_(other.ttdb_child_) {}

bool Tracee::is_ttdb_child() {
  if (!ttdb_child_) ttdb_child_ = parent_of(tid_) == ::getpid();
  return ttdb_child_;
}

Tracee::~Tracee() {
  if (tid_ > 0 && alive()) {
    try {
      kill();
    } catch (...) {
      // Destructors must not throw; the process is gone or unkillable.
    }
  }
}

void Tracee::detach() {
  if (::ptrace(PTRACE_DETACH, tid_, nullptr, nullptr) != 0)
    fail("cannot let thread {} run on its own: ptrace detach failed: {}", tid_, errno_text(errno));
  forget();
}

void Tracee::take_over_tid(pid_t tid) {
  tid_ = tid;
  forget_stop();
  reopen_memory();
}

void Tracee::reopen_memory() {
  std::string path = fmt::format("/proc/{}/mem", tid_);
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) fail("cannot open {}: {}", path, errno_text(errno));
  mem_.reset(fd);
}

const Registers& Tracee::regs() {
  if (!regs_valid_) {
    if (!fallible_ptrace(PTRACE_GETREGS, tid_, nullptr, &regs_)) std::memset(&regs_, 0, sizeof regs_);
    regs_valid_ = true;
  }
  return regs_;
}

std::uint64_t Tracee::pc() {
  if (!regs_valid_ && info_) return info_->instruction_pointer;
  return regs().rip;
}

void Tracee::set_regs(const Registers& regs) {
  // The kernel has these already (several steps of a stop may each set
  // what the one before did): a call saved.
  if (regs_valid_ && std::memcmp(&regs_, &regs, sizeof regs) == 0) return;
  regs_ = regs;
  regs_valid_ = true;
  info_.reset();  // (the syscall's number and arguments may be others now)
  fallible_ptrace(PTRACE_SETREGS, tid_, nullptr, &regs_);
}

std::uint64_t Tracee::debug_register(int index) {
  long value = 0;
  auto offset = offsetof(struct user, u_debugreg) + static_cast<std::size_t>(index) * sizeof(long);
  if (!fallible_ptrace(PTRACE_PEEKUSER, tid_, reinterpret_cast<void*>(offset), nullptr, &value)) return 0;
  return static_cast<std::uint64_t>(value);
}

void Tracee::set_debug_register(int index, std::uint64_t value) {
  auto offset = offsetof(struct user, u_debugreg) + static_cast<std::size_t>(index) * sizeof(long);
  fallible_ptrace(PTRACE_POKEUSER, tid_, reinterpret_cast<void*>(offset), reinterpret_cast<void*>(value));
}

Bytes Tracee::xstate() {
  Bytes buffer(16384);
  iovec io{buffer.data(), buffer.size()};
  if (!fallible_ptrace(PTRACE_GETREGSET, tid_, reinterpret_cast<void*>(NT_X86_XSTATE), &io)) return {};
  buffer.resize(io.iov_len);
  return buffer;
}

void Tracee::set_xstate(ByteView xstate) {
  Bytes copy(xstate.begin(), xstate.end());
  iovec io{copy.data(), copy.size()};
  fallible_ptrace(PTRACE_SETREGSET, tid_, reinterpret_cast<void*>(NT_X86_XSTATE), &io);
}

bool Tracee::resume(Resume how, int sig) {
  forget_stop();
  at_sysemu_entry_ = false;
  if (std::exchange(sysemu_done_, false) && (how == Resume::syscall || how == Resume::singlestep)) {
    // These stop at the skipped call's exit first: that stop is nothing to
    // the caller, who asked for the next one.
    if (!fallible_ptrace(PTRACE_SYSCALL, tid_, nullptr, nullptr)) return false;
    int raw = wait_raw();
    if (!WaitStatus::decode(raw).is_syscall_stop()) {
      pending_raw_ = raw;  // (it ended, or stopped otherwise: wait() gives that)
      last_resume_ = {how, sig};
      return true;
    }
  }
  last_resume_ = {how, sig};
  int request = PTRACE_CONT;
  switch (how) {
    case Resume::cont: request = PTRACE_CONT; break;
    case Resume::syscall: request = PTRACE_SYSCALL; break;
    case Resume::singlestep: request = PTRACE_SINGLESTEP; break;
    case Resume::listen: request = PTRACE_LISTEN; break;
    case Resume::sysemu: request = PTRACE_SYSEMU; break;
  }
  return fallible_ptrace(request, tid_, nullptr,
                         reinterpret_cast<void*>(static_cast<std::uintptr_t>(sig)));
}

WaitStatus Tracee::note_stop(int raw) {
  forget_stop();
  WaitStatus status = WaitStatus::decode(raw);
  if (status.is_exit()) exit_ = status;
  at_sysemu_entry_ = last_resume_.first == Resume::sysemu && status.is_syscall_stop();
  signal_stop_ = status.is_signal_stop();
  sysemu_done_ = false;
  return status;
}

int Tracee::wait_raw() {
  for (;;) {
    int raw = 0;
    pid_t got = ::waitpid(tid_, &raw, __WALL);
    if (got < 0 && errno == EINTR) continue;
    if (got != tid_) throw InternalError(fmt::format("waitpid({}) failed: {}", tid_, errno_text(errno)));
    return raw;
  }
}

WaitStatus Tracee::wait() {
  for (;;) {
    WaitStatus status;
    if (take_status(pending_raw_ ? *std::exchange(pending_raw_, std::nullopt) : wait_raw(), status)) return status;
  }
}

bool Tracee::take_status(int raw, WaitStatus& status) {
  // The stop of an interrupt that came too late: nothing ran; resume again.
  if (stray_interrupt_ && WaitStatus::decode(raw).is_event(PTRACE_EVENT_STOP)) {
    stray_interrupt_ = false;
    TTDB_LOG(ptrace, "wait({}) -> a late interrupt's stop, absorbed", tid_);
    resume(last_resume_.first, last_resume_.second);
    return false;
  }
  status = note_stop(raw);
  TTDB_LOG(ptrace, "wait({}) -> {}", tid_, status.describe());
  return true;
}

std::optional<AnyStop> wait_any(std::optional<std::chrono::milliseconds> timeout) {
  if (!timeout) {
    for (;;) {
      int raw = 0;
      pid_t got = ::waitpid(-1, &raw, __WALL);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && errno == ECHILD) return std::nullopt;
      if (got < 0) throw InternalError(fmt::format("waitpid(-1) failed: {}", errno_text(errno)));
      return AnyStop{got, raw};
    }
  }
  // A pidfd becomes readable only at exit, so poll for stops in short naps.
  auto deadline = std::chrono::steady_clock::now() + *timeout;
  for (auto nap = std::chrono::microseconds(50);; nap = std::min(nap * 2, std::chrono::microseconds(2000))) {
    int raw = 0;
    pid_t got = ::waitpid(-1, &raw, __WALL | WNOHANG);
    if (got > 0) return AnyStop{got, raw};
    if (got < 0 && errno == ECHILD) return std::nullopt;
    if (got < 0 && errno != EINTR) throw InternalError(fmt::format("waitpid(-1) failed: {}", errno_text(errno)));
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    ::usleep(static_cast<useconds_t>(nap.count()));
  }
}

std::optional<WaitStatus> Tracee::wait_for(std::chrono::milliseconds timeout) {
  if (pending_raw_) return note_stop(*std::exchange(pending_raw_, std::nullopt));
  // A pidfd becomes readable only at exit, so poll for stops in short naps.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto nap = std::chrono::microseconds(50);; nap = std::min(nap * 2, std::chrono::microseconds(2000))) {
    int raw = 0;
    pid_t got = ::waitpid(tid_, &raw, __WALL | WNOHANG);
    if (got == tid_) return note_stop(raw);
    if (got < 0 && errno != EINTR)
      throw InternalError(fmt::format("waitpid({}) failed: {}", tid_, errno_text(errno)));
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    ::usleep(static_cast<useconds_t>(nap.count()));
  }
}

void Tracee::interrupt() { fallible_ptrace(PTRACE_INTERRUPT, tid_, nullptr, nullptr); }

siginfo_t Tracee::siginfo() {
  siginfo_t info{};
  fallible_ptrace(PTRACE_GETSIGINFO, tid_, nullptr, &info);
  return info;
}

void Tracee::set_siginfo(const siginfo_t& info) {
  siginfo_t copy = info;
  fallible_ptrace(PTRACE_SETSIGINFO, tid_, nullptr, &copy);
}

unsigned long Tracee::event_message() {
  unsigned long message = 0;
  fallible_ptrace(PTRACE_GETEVENTMSG, tid_, nullptr, &message);
  return message;
}

__ptrace_syscall_info Tracee::syscall_info() {
  if (!info_) {
    __ptrace_syscall_info info{};
    fallible_ptrace(PTRACE_GET_SYSCALL_INFO, tid_, reinterpret_cast<void*>(sizeof info), &info);
    info_ = info;
  }
  return *info_;
}

std::uint64_t Tracee::pending_signals() {
  std::uint64_t mask = 0;
  for (unsigned flags : {0u, static_cast<unsigned>(PTRACE_PEEKSIGINFO_SHARED)}) {
    __ptrace_peeksiginfo_args args{0, flags, 32};
    siginfo_t queued[32];
    long count = 0;
    if (!fallible_ptrace(PTRACE_PEEKSIGINFO, tid_, &args, queued, &count)) return mask;
    for (long i = 0; i < count; ++i) mask |= 1ull << (queued[i].si_signo - 1);
  }
  return mask;
}

std::uint64_t Tracee::signal_mask() {
  std::uint64_t mask = 0;
  fallible_ptrace(PTRACE_GETSIGMASK, tid_, reinterpret_cast<void*>(sizeof mask), &mask);
  return mask;
}

void Tracee::set_signal_mask(std::uint64_t mask) {
  fallible_ptrace(PTRACE_SETSIGMASK, tid_, reinterpret_cast<void*>(sizeof mask), &mask);
}

bool Tracee::set_syscall_dispatch(bool on, std::uint64_t from, std::uint64_t length, RemotePtr selector) {
  // (Newer than the uapi headers this builds with: linux/ptrace.h of 6.4.)
  constexpr int kSetDispatchConfig = 0x4210;  // PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG
  struct {
    std::uint64_t mode, selector, offset, len;
  } config{on ? 1u : 0u, on ? selector.addr() : 0, on ? from : 0, on ? length : 0};  // PR_SYS_DISPATCH_ON
  return fallible_ptrace(kSetDispatchConfig, tid_, reinterpret_cast<void*>(sizeof config), &config);
}

namespace {

// Copies of at least this many bytes go straight between ttdb's memory and
// the program's (process_vm_readv, process_vm_writev).
constexpr std::size_t kDirectCopy = 4096;

}  // namespace

std::size_t Tracee::read_some(RemotePtr addr, void* out, std::size_t size) {
  std::size_t done = 0;
  auto* bytes = static_cast<std::uint8_t*>(out);
  // process_vm_readv copies straight from the program's pages, where a read
  // of /proc/PID/mem copies each page twice, through a kernel page: the
  // recorder takes a million clock reads' records (88 MB) in 0.9 of the
  // time. It checks its right to at each call, which costs a small read
  // more than it saves. It reads only what the program itself may read:
  // the rest (code mapped without PROT_READ, pages the program protected)
  // goes through /proc/PID/mem, which reads whatever is mapped.
  if (size >= kDirectCopy) {
    iovec local{out, size};
    iovec remote{reinterpret_cast<void*>(addr.addr()), size};
    if (ssize_t n = ::process_vm_readv(tid_, &local, 1, &remote, 1, 0); n > 0) done = static_cast<std::size_t>(n);
  }
  while (done < size) {
    ssize_t n = ::pread64(mem_.get(), bytes + done, size - done,
                          static_cast<off64_t>(addr.addr() + done));
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EIO at an unmapped page, or the process is gone
  }
  return done;
}

bool Tracee::read_scattered(std::span<const ReadPiece> pieces) {
  // A patch reads the code around a module's sites, a dozen ranges or
  // more: one call for them all where the program may read them, rather
  // than a read of /proc/PID/mem each.
  std::size_t from = 0;
  while (from < pieces.size()) {
    std::size_t count = std::min<std::size_t>(pieces.size() - from, IOV_MAX);
    std::vector<iovec> local, remote;
    std::size_t total = 0;
    for (std::size_t i = from; i < from + count; ++i) {
      local.push_back(iovec{pieces[i].out.data(), pieces[i].out.size()});
      remote.push_back(iovec{reinterpret_cast<void*>(pieces[i].addr.addr()), pieces[i].out.size()});
      total += pieces[i].out.size();
    }
    ssize_t n = ::process_vm_readv(tid_, local.data(), count, remote.data(), count, 0);
    if (n != static_cast<ssize_t>(total)) {
      // Some piece is not readable so: each its own way (read_some).
      for (std::size_t i = from; i < from + count; ++i)
        if (read_some(pieces[i].addr, pieces[i].out.data(), pieces[i].out.size()) != pieces[i].out.size()) return false;
    }
    from += count;
  }
  return true;
}

void Tracee::read_exact(RemotePtr addr, void* out, std::size_t size) {
  if (read_some(addr, out, size) != size)
    fail("cannot read {} bytes of the program's memory at {:#x}", size, addr.addr());
}

Bytes Tracee::read_bytes(RemotePtr addr, std::size_t size) {
  Bytes out(size);
  read_exact(addr, out.data(), size);
  return out;
}

std::optional<Bytes> Tracee::try_read_bytes(RemotePtr addr, std::size_t size) {
  Bytes out(size);
  if (read_some(addr, out.data(), size) != size) return std::nullopt;
  return out;
}

std::optional<std::string> Tracee::read_c_string(RemotePtr addr, std::size_t max) {
  std::string out;
  char chunk[256];
  while (out.size() < max) {
    // Read up to the end of the page so that a string at a page's end works.
    std::size_t to_page_end = 4096 - ((addr.addr() + out.size()) & 4095);
    std::size_t want = std::min({sizeof chunk, to_page_end, max - out.size()});
    std::size_t got = read_some(addr + out.size(), chunk, want);
    if (got == 0) return std::nullopt;
    if (auto* nul = static_cast<char*>(std::memchr(chunk, 0, got))) {
      out.append(chunk, static_cast<std::size_t>(nul - chunk));
      return out;
    }
    out.append(chunk, got);
  }
  return out;
}

bool Tracee::write_bytes(RemotePtr addr, ByteView data) { return write_through_mem(addr, data, 0); }

bool Tracee::write_data(RemotePtr addr, ByteView data) { return write_gathered(addr, std::span(&data, 1)); }

bool Tracee::write_gathered(RemotePtr addr, std::span<const ByteView> pieces) {
  // As read_some reads: straight into the program's pages (replay's queues
  // of records, a megabyte at a time), and through /proc/PID/mem only what
  // the program could not write itself.
  std::size_t total = 0;
  for (ByteView piece : pieces) total += piece.size();
  std::size_t done = 0;
  if (total >= kDirectCopy && pieces.size() <= IOV_MAX) {
    std::vector<iovec> local;
    local.reserve(pieces.size());
    for (ByteView piece : pieces) local.push_back(iovec{const_cast<std::uint8_t*>(piece.data()), piece.size()});
    iovec remote{reinterpret_cast<void*>(addr.addr()), total};
    ssize_t n = ::process_vm_writev(tid_, local.data(), local.size(), &remote, 1, 0);
    if (n > 0) done = static_cast<std::size_t>(n);
    if (done == total) return true;
  }
  if (pieces.size() == 1) return write_through_mem(addr, pieces.front(), done);
  Bytes joined;
  joined.reserve(total);
  for (ByteView piece : pieces) joined.insert(joined.end(), piece.begin(), piece.end());
  return write_through_mem(addr, joined, done);
}

bool Tracee::write_through_mem(RemotePtr addr, ByteView data, std::size_t done) {
  while (done < data.size()) {
    ssize_t n = ::pwrite64(mem_.get(), data.data() + done, data.size() - done,
                           static_cast<off64_t>(addr.addr() + done));
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
  return true;
}

void Tracee::kill() {
  if (!alive()) return;
  ::kill(tid_, SIGKILL);
  // The process may report a few last stops before its death.
  while (alive()) {
    int raw = 0;
    pid_t got = ::waitpid(tid_, &raw, __WALL);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {  // already reaped elsewhere
      exit_ = WaitStatus::decode(SIGKILL);
      break;
    }
    WaitStatus status = note_stop(raw);
    // A tracee stopped on its way out (PTRACE_EVENT_EXIT) dies once resumed.
    if (!status.is_exit()) fallible_ptrace(PTRACE_CONT, tid_, nullptr, nullptr);
  }
}

}  // namespace ttdb
