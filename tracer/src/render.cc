#include <sched.h>
#include "ttdb/tracer/render.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "ttdb/tracer/syscall_sites.h"
#include "ttdb/tracer/syscall_table.h"
#include "ttdb/tracer/wait_status.h"

namespace ttdb {
namespace {

using trace::Event;
using trace::EventKind;

constexpr std::size_t kShownBytes = 32;

struct Flag {
  std::uint64_t bit;
  const char* name;
};

std::string flags(std::uint64_t value, std::initializer_list<Flag> known, const char* zero) {
  std::string out;
  for (const auto& flag : known) {
    if (flag.bit != 0 && (value & flag.bit) == flag.bit) {
      if (!out.empty()) out += '|';
      out += flag.name;
      value &= ~flag.bit;
    }
  }
  if (value != 0) out += fmt::format("{}{:#x}", out.empty() ? "" : "|", value);
  return out.empty() ? zero : out;
}

std::string open_flags(std::uint64_t value) {
  static const char* const kAccess[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
  std::string access = kAccess[value & O_ACCMODE];
  std::string rest = flags(value & ~static_cast<std::uint64_t>(O_ACCMODE),
                           {{O_CREAT, "O_CREAT"}, {O_EXCL, "O_EXCL"}, {O_NOCTTY, "O_NOCTTY"},
                            {O_TRUNC, "O_TRUNC"}, {O_APPEND, "O_APPEND"}, {O_NONBLOCK, "O_NONBLOCK"},
                            {O_DSYNC, "O_DSYNC"}, {O_DIRECT, "O_DIRECT"}, {O_LARGEFILE, "O_LARGEFILE"},
                            {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"},
                            {O_NOATIME, "O_NOATIME"}, {O_CLOEXEC, "O_CLOEXEC"}, {O_PATH, "O_PATH"},
                            {O_TMPFILE & ~O_DIRECTORY, "O_TMPFILE"}},
                           "");
  return rest.empty() ? access : access + "|" + rest;
}

const char* clock_name(std::uint64_t clock) {
  switch (clock) {
    case CLOCK_REALTIME: return "CLOCK_REALTIME";
    case CLOCK_MONOTONIC: return "CLOCK_MONOTONIC";
    case CLOCK_PROCESS_CPUTIME_ID: return "CLOCK_PROCESS_CPUTIME_ID";
    case CLOCK_THREAD_CPUTIME_ID: return "CLOCK_THREAD_CPUTIME_ID";
    case CLOCK_MONOTONIC_RAW: return "CLOCK_MONOTONIC_RAW";
    case CLOCK_REALTIME_COARSE: return "CLOCK_REALTIME_COARSE";
    case CLOCK_MONOTONIC_COARSE: return "CLOCK_MONOTONIC_COARSE";
    case CLOCK_BOOTTIME: return "CLOCK_BOOTTIME";
    default: return nullptr;
  }
}

// The bytes a syscall wrote at `addr`, as recorded.
const trace::MemWrite* written_at(const Event& e, std::uint64_t addr) {
  for (const auto& m : e.mem)
    if (m.addr == addr && !m.file) return &m;
  return nullptr;
}

std::string pointer(std::uint64_t value) { return value == 0 ? "NULL" : fmt::format("{:#x}", value); }

std::string render_arg(const Event& e, const ArgSpec& spec, std::uint64_t value, int& strings_seen) {
  auto as_int = static_cast<std::int64_t>(value);
  auto as_int32 = static_cast<std::int32_t>(value);
  switch (spec.format) {
    case ArgFormat::i: return fmt::format("{}", as_int);
    case ArgFormat::u: return fmt::format("{}", value);
    case ArgFormat::x: return fmt::format("{:#x}", value);
    case ArgFormat::p:
    case ArgFormat::sigmask:
    case ArgFormat::sigmask_pair: return pointer(value);
    case ArgFormat::fd: return fmt::format("{}", as_int32);
    case ArgFormat::dfd: return as_int32 == AT_FDCWD ? "AT_FDCWD" : fmt::format("{}", as_int32);
    case ArgFormat::s: {
      const auto& text = strings_seen++ == 0 ? e.path : e.path2;
      return text ? escape_bytes(as_bytes(*text), 4096) : pointer(value);
    }
    case ArgFormat::mode: return fmt::format("{:#o}", value);
    case ArgFormat::oflags: return open_flags(value);
    case ArgFormat::prot:
      return flags(value, {{PROT_READ, "PROT_READ"}, {PROT_WRITE, "PROT_WRITE"}, {PROT_EXEC, "PROT_EXEC"}}, "PROT_NONE");
    case ArgFormat::mflags:
      return flags(value,
                   {{MAP_SHARED_VALIDATE, "MAP_SHARED_VALIDATE"}, {MAP_SHARED, "MAP_SHARED"},
                    {MAP_PRIVATE, "MAP_PRIVATE"}, {MAP_FIXED, "MAP_FIXED"}, {MAP_ANONYMOUS, "MAP_ANONYMOUS"},
                    {MAP_DENYWRITE, "MAP_DENYWRITE"}, {MAP_NORESERVE, "MAP_NORESERVE"},
                    {MAP_POPULATE, "MAP_POPULATE"}, {MAP_STACK, "MAP_STACK"},
                    {MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"}, {MAP_GROWSDOWN, "MAP_GROWSDOWN"}},
                   "0");
    case ArgFormat::sig: return value == 0 ? "0" : signal_name(as_int32);
    case ArgFormat::how: {
      static const char* const kHow[] = {"SIG_BLOCK", "SIG_UNBLOCK", "SIG_SETMASK"};
      return value < 3 ? kHow[value] : fmt::format("{}", value);
    }
    case ArgFormat::whence: {
      static const char* const kWhence[] = {"SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"};
      return value < 5 ? kWhence[value] : fmt::format("{}", value);
    }
    case ArgFormat::clock: {
      const char* name = clock_name(value);
      return name ? name : fmt::format("{}", as_int32);
    }
    case ArgFormat::amode:
      return flags(value, {{R_OK, "R_OK"}, {W_OK, "W_OK"}, {X_OK, "X_OK"}}, "F_OK");
    case ArgFormat::atflags:
      return flags(value,
                   {{AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"}, {AT_REMOVEDIR, "AT_REMOVEDIR"},
                    {AT_SYMLINK_FOLLOW, "AT_SYMLINK_FOLLOW"}, {AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT"},
                    {AT_EMPTY_PATH, "AT_EMPTY_PATH"}, {AT_EACCESS, "AT_EACCESS"}},
                   "0");
    case ArgFormat::in:
      return e.preview.empty() && value != 0 ? pointer(value) : escape_bytes(e.preview, kShownBytes);
    case ArgFormat::out:
      if (const auto* m = written_at(e, value); m && spec.size.from == SizeRule::From::ret)
        return escape_bytes(m->data, kShownBytes);
      return pointer(value);
  }
  return fmt::format("{:#x}", value);
}

std::string siginfo_summary(const Event& e) {
  auto code = static_cast<std::int64_t>(e.args[2]);
  const char* code_name = nullptr;
  switch (code) {
    case SI_USER: code_name = "SI_USER"; break;
    case SI_KERNEL: code_name = "SI_KERNEL"; break;
    case SI_QUEUE: code_name = "SI_QUEUE"; break;
    case SI_TIMER: code_name = "SI_TIMER"; break;
    case SI_TKILL: code_name = "SI_TKILL"; break;
    default: break;
  }
  std::string text = code_name ? fmt::format("si_code={}", code_name) : fmt::format("si_code={}", code);
  if (e.info.size() >= sizeof(siginfo_t)) {
    siginfo_t info;
    std::memcpy(&info, e.info.data(), sizeof info);
    if (code == SI_USER || code == SI_TKILL || code == SI_QUEUE)
      text += fmt::format(", si_pid={}, si_uid={}", info.si_pid, info.si_uid);
    if (info.si_signo == SIGSEGV || info.si_signo == SIGBUS)
      text += fmt::format(", si_addr={}", pointer(reinterpret_cast<std::uint64_t>(info.si_addr)));
  }
  return text;
}

}  // namespace

std::string render_call(const Event& e) {
  const SyscallInfo* info = find_syscall(e.nr);
  std::string out = syscall_name(e.nr) + "(";
  int strings_seen = 0;
  std::size_t count = info ? info->args.size() : 6;
  for (std::size_t i = 0; i < count; ++i) {
    if (i) out += ", ";
    out += info ? render_arg(e, info->args[i], e.args[i], strings_seen) : fmt::format("{:#x}", e.args[i]);
  }
  return out + ")";
}

std::string render_result(const Event& e) {
  if (!e.ret) return "?";
  std::int64_t ret = *e.ret;
  if (is_error_result(ret)) {
    int error = static_cast<int>(-ret);
    const char* name = strerrorname_np(error);
    // Kernel-internal restart codes have no errno name.
    switch (error) {
      case 512: return "? ERESTARTSYS (to be restarted if SA_RESTART is set)";
      case 513: return "? ERESTARTNOINTR (to be restarted)";
      case 514: return "? ERESTARTNOHAND (to be restarted if no handler)";
      case 516: return "? ERESTART_RESTARTBLOCK (interrupted by signal)";
      default: break;
    }
    return fmt::format("-1 {} ({})", name ? name : fmt::format("E{}", error), strerrordesc_np(error));
  }
  const SyscallInfo* info = find_syscall(e.nr);
  if (info && info->ret_hex) return fmt::format("{:#x}", static_cast<std::uint64_t>(ret));
  return fmt::format("{}", ret);
}

namespace {

// "N syscall sites (and M rdtsc sites) now enter the syscall buffer".
std::string render_sites_patch(const Event& e) {
  std::int64_t tsc = 0;
  if (auto sites = deserialize_sites(e.info))
    tsc = std::count_if(sites->begin(), sites->end(), [](const SyscallSite& s) { return s.tsc; });
  auto count = [](std::int64_t n, const char* what) { return fmt::format("{} {} site{}", n, what, n == 1 ? "" : "s"); };
  std::int64_t calls = e.nr - tsc;
  std::string which = !tsc ? count(calls, "syscall") : !calls ? count(tsc, "rdtsc")
                                                              : count(calls, "syscall") + " and " + count(tsc, "rdtsc");
  return fmt::format("patch: {} now enter{} the syscall buffer (through code at {:#x})", which, e.nr == 1 ? "s" : "",
                     e.args[0]);
}

}  // namespace

std::string render_event(const Event& e) {
  switch (e.kind) {
    case EventKind::syscall: return render_call(e) + " = " + render_result(e);
    case EventKind::exec:
      return fmt::format("exec {}{}", escape_bytes(as_bytes(e.path.value_or("")), 4096),
                         e.args[4] ? fmt::format(" (from thread {}, which takes this tid)", e.args[4]) : "");
    case EventKind::signal: {
      auto delivery = e.args[0] == static_cast<std::uint64_t>(trace::SignalDelivery::natural)
                          ? "raised by the program"
                          : "at a syscall boundary";
      return fmt::format("--- {} {{{}}} at {:#x}, {} ---", signal_name(static_cast<int>(e.nr)),
                         siginfo_summary(e), e.args[1], delivery);
    }
    case EventKind::rdtsc:
      return fmt::format("{} at {:#x} = {:#x}{}", e.nr ? "rdtscp" : "rdtsc", e.args[0], e.args[1],
                         e.nr ? fmt::format(" (aux {})", e.args[2]) : "");
    case EventKind::rdrand:
      return fmt::format("{} at {:#x} = {:#x}", e.nr ? "rdseed" : "rdrand", e.args[0], e.args[1]);
    case EventKind::snapshot:
      return fmt::format("snapshot at {:#x}: the program's registers and {} writable chunks", e.args[0], e.mem.size());
    case EventKind::patch:
      if (e.args[2] == 1) return fmt::format("patch: ttdb's syscall buffer mapped at {:#x}", e.args[0]);
      return render_sites_patch(e);
    case EventKind::spawn:
      if (e.args[0] & CLONE_THREAD) return fmt::format("+++ new thread {} +++", e.nr);
      return fmt::format("+++ new process {}{} +++", e.nr, e.args[0] & CLONE_VFORK ? " (vfork: sharing its memory until it execs or exits)" : "");
    case EventKind::blocked: {
      trace::Event call = e;
      call.kind = EventKind::syscall;
      return render_call(call) + " ... (others run while it waits)";
    }
    case EventKind::ptrace:
      switch (static_cast<trace::PtraceEffect>(e.nr)) {
        case trace::PtraceEffect::memory: return fmt::format("ptrace: its tracer wrote {} byte range{}", e.mem.size(), e.mem.size() == 1 ? "" : "s");
        case trace::PtraceEffect::registers: return "ptrace: its tracer set its registers";
        case trace::PtraceEffect::signal_mask: return fmt::format("ptrace: its tracer set its signal mask to {:#x}", e.args[0]);
        case trace::PtraceEffect::resume: {
          static const char* const how[] = {"continued it", "let it run to its next syscall stop",
                                            "stepped it by one instruction"};
          std::string verb = e.args[1] < 3 ? how[e.args[1]] : "resumed it";
          return fmt::format("ptrace: its tracer {}{}", verb,
                             e.args[0] ? fmt::format(", delivering {}", signal_name(static_cast<int>(e.args[0]))) : "");
        }
      }
      return "ptrace: ?";
    case EventKind::live: return "--- live from here (go-live --record): recorded without ttdb's syscall buffer ---";
    case EventKind::exit:
      if (e.args[0] == static_cast<std::uint64_t>(trace::ExitKind::exited))
        return fmt::format("+++ exited with {} +++", e.nr);
      return fmt::format("+++ killed by {} +++", signal_name(static_cast<int>(e.nr)));
  }
  return "?";
}

}  // namespace ttdb
