#include "ttdb/tracer/syscall_buffer.h"

#include <sys/stat.h>

#include <asm/unistd_64.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <memory>

#include "shim_abi.h"
#include "shim_control.h"
#include "ttdb/base/error.h"
#include "ttdb/base/log.h"
#include "ttdb/tracer/inject.h"
#include "ttdb/tracer/syscall_table.h"

namespace ttdb {

extern const std::uint8_t shim_code[];
extern const std::size_t shim_code_size;

namespace {


// This ttdb's shim's header. Copied each time, not kept in a static: the
// child about to exec reads it too, where only async-signal-safe code runs.
ttdb_shim_header header() {
  ttdb_shim_header out;
  std::memcpy(&out, shim_code, sizeof out);
  return out;
}

// Version 1's control block is version 2's without the secret and what
// follows it (the vDSO's clocks, which only a recording sets).
static_assert(offsetof(Control, secret) + sizeof(Control::secret) == offsetof(Control, vdso_clocks));
constexpr std::size_t kControlV1Size = offsetof(Control, secret);
// Versions 2 to 4 end before what the replayer puts back of SIGTRAP.
constexpr std::size_t kControlV4Size = offsetof(Control, trap_changed);
// Versions 5 and 6 end before the count of memory records, or (recorded
// since) with it.
constexpr std::size_t kControlV6Size = offsetof(Control, memory_records);
constexpr std::size_t kControlV6CountedSize = offsetof(Control, serve_tsc);
// Version 7 ends before the files the shim may map, or (recorded since)
// with them.
constexpr std::size_t kControlV7Size = offsetof(Control, mappable_count);
constexpr std::size_t kControlV7MappableSize = offsetof(Control, stop_to);

std::uint8_t how_of(Buffering b) {
  switch (b) {
    case Buffering::none: return TTDB_HOW_TRACED;
    case Buffering::plain: return TTDB_HOW_PLAIN;
    case Buffering::fd_read: return TTDB_HOW_FD_READ;
    case Buffering::fd_write: return TTDB_HOW_FD_WRITE;
    case Buffering::openat: return TTDB_HOW_OPENAT;
    case Buffering::fcntl: return TTDB_HOW_FCNTL;
    case Buffering::fd_pwrite: return TTDB_HOW_FD_PWRITE;
    case Buffering::enosys: return TTDB_HOW_ENOSYS;
    case Buffering::get: return TTDB_HOW_GET;
    case Buffering::execute: return TTDB_HOW_EXECUTE;
    case Buffering::nohang: return TTDB_HOW_NOHANG;
  }
  return TTDB_HOW_TRACED;
}

ttdb_shim_arg_spec spec_of(const ArgSpec& arg) {
  ttdb_shim_arg_spec spec{};
  switch (arg.format) {
    case ArgFormat::s: spec.kind = TTDB_ARG_PATH; return spec;
    case ArgFormat::in: spec.kind = TTDB_ARG_IN; break;
    case ArgFormat::out: spec.kind = TTDB_ARG_OUT; break;
    default: return spec;
  }
  spec.rule = arg.size.from == SizeRule::From::ret ? TTDB_SIZE_RET
              : arg.size.from == SizeRule::From::fixed ? TTDB_SIZE_FIXED
                                                        : TTDB_SIZE_ARG;
  spec.scale = static_cast<std::uint16_t>(arg.size.scale);
  spec.value = static_cast<std::uint32_t>(arg.size.value);
  return spec;
}

// What the shim is told about every syscall it buffers, from syscalls.def.
Bytes initial_control() {
  Bytes bytes(sizeof(Control), 0);
  auto* c = reinterpret_cast<Control*>(bytes.data());
  c->magic = TTDB_SHIM_MAGIC;
  struct stat proc;
  if (::stat("/proc", &proc) == 0) c->proc_dev = proc.st_dev;
  for (const SyscallInfo* info : all_syscalls()) {
    if (info->buffering == Buffering::none || info->nr >= TTDB_SHIM_MAX_NR) continue;
    c->how[info->nr] = how_of(info->buffering);
    // The sixth argument register carries the secret (TTDB_SECRET_ARG): a
    // syscall that needs it cannot be made by the shim, and stays traced.
    TTDB_CHECK(info->args.size() <= TTDB_SECRET_ARG || secret_in_fifth(static_cast<std::uint32_t>(info->nr)),
               "syscalls.def: buffered {} takes six arguments, and the sixth carries the shim's secret", info->name);
    for (std::size_t i = 0; i < info->args.size(); ++i) {
      c->args[info->nr][i] = spec_of(info->args[i]);
      bool bounded = info->args[i].format != ArgFormat::out || info->args[i].size.from != SizeRule::From::ret ||
                     (i + 1 < info->args.size() && info->args[i + 1].format == ArgFormat::u && info->args[i].size.scale == 1);
      TTDB_CHECK(bounded, "syscalls.def: buffered {} needs the size of its out:ret buffer in the next argument", info->name);
    }
  }
  return bytes;
}

std::int64_t checked_inject(Tracee& tracee, std::uint64_t insn, long nr, const std::array<std::uint64_t, 6>& args,
                            const char* what) {
  std::int64_t got = inject_syscall(tracee, insn, nr, args);
  if (is_error_result(got))
    fail("cannot {} in program {}: {}", what, tracee.tid(), errno_text(static_cast<int>(-got)));
  return got;
}

}  // namespace

std::uint64_t ShimPlace::end() const { return base_ + TTDB_SHIM_SIZE; }
std::uint64_t ShimPlace::entry() const { return base_ + header().entry; }
std::uint64_t ShimPlace::call_entry() const { return base_ + header().call_entry; }
std::uint64_t ShimPlace::tsc_entry() const { return base_ + header().tsc_entry; }
std::uint64_t ShimPlace::syscall_instruction() const { return base_ + header().untraced_return - 2; }
RemotePtr ShimPlace::control(std::size_t offset) const { return RemotePtr(base_ + TTDB_SHIM_CONTROL + offset); }
RemotePtr ShimPlace::buffer() const { return RemotePtr(base_ + TTDB_SHIM_BUFFER); }

namespace {

// Where a shim may go: from 1 GiB up to 2 GiB. The kernel's layout does not
// go there (with or without address randomization, mmap works down from
// below the stack, or up from a third of the address space, and the
// program's image is at 4 MiB or at 0x555555554000), except for the brk heap
// of a program not built position-independent, which has 1 GiB to grow
// first (when it meets the shim, malloc goes on with mmap). And every
// sanitizer leaves it to the program: from 0x7fff8000 up to 16 TiB is
// AddressSanitizer's shadow memory, which it maps at fixed addresses;
// ThreadSanitizer's and MemorySanitizer's program memory begins at 0.
// Version 1 was always at 0x70000000, in this range.
constexpr std::uint64_t kPlaceFirst = 0x40000000;
constexpr std::uint64_t kPlaceEnd = 0x7fe00000;  // the shim ends at or before this
constexpr std::uint64_t kPageSize = 0x1000;

std::uint64_t random_word() {
  std::uint64_t word = 0;
  for (;;) {
    ssize_t got = ::getrandom(&word, sizeof word, 0);
    if (got == static_cast<ssize_t>(sizeof word)) return word;
    if (got < 0 && errno != EINTR)
      fail("cannot choose where ttdb's syscall buffer goes: getrandom failed: {}; record with --no-syscall-buffer",
           errno_text(errno));
  }
}

}  // namespace

std::pair<std::uint64_t, std::uint64_t> shim_base_range() { return {kPlaceFirst, kPlaceEnd - TTDB_SHIM_SIZE}; }

ShimSetup choose_shim_setup() {
  auto [first, last] = shim_base_range();
  std::uint64_t pages = (last - first) / kPageSize + 1;
  ShimSetup setup;
  setup.base = first + random_word() % pages * kPageSize;
  // Never 0: the control block of a shim that was never told one holds 0.
  do setup.secret = random_word();
  while (setup.secret == 0);
  return setup;
}

bool install_shim_filter(const ShimSetup& setup) {
  // seccomp_data.instruction_pointer is the address after the syscall instruction.
  std::uint64_t ip = setup.base + header().untraced_return;
  auto lo = [](std::uint64_t v) { return static_cast<std::uint32_t>(v); };
  auto hi = [](std::uint64_t v) { return static_cast<std::uint32_t>(v >> 32); };
  constexpr std::uint32_t kIpLo = offsetof(seccomp_data, instruction_pointer);
  constexpr std::uint32_t kArg5Lo = offsetof(seccomp_data, args) + 8 * TTDB_SECRET_ARG;
  constexpr std::uint32_t kArg4Lo = offsetof(seccomp_data, args) + 8 * TTDB_SECRET_ARG_RWV2;
  // It runs at every syscall the program makes, so the cheapest test comes
  // first: almost every call leaves at the instruction pointer. Then the
  // secret, where secret_in_fifth() says, both 32-bit halves (for mmap the
  // high one: the low one is the descriptor). The instructions are numbered
  // for the jumps, which count from the next one.
  enum : std::uint8_t { kArg5 = 10, kArg4 = 14, kArg4High = 16, kAllow = 18, kTrace = 19 };
  auto to = [](std::uint8_t from, std::uint8_t target) { return static_cast<std::uint8_t>(target - from - 1); };
  sock_filter filter[] = {
      /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kIpLo),
      /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, lo(ip), 0, to(1, kTrace)),
      /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kIpLo + 4),
      /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi(ip), 0, to(3, kTrace)),
      /* 4 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, to(5, kTrace)),
      /* 6 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      /* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_preadv2, to(7, kArg4), 0),
      /* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pwritev2, to(8, kArg4), 0),
      /* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, to(9, kArg4High), to(9, kArg5)),
      /* 10: kArg5 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArg5Lo),
      /* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, lo(setup.secret), 0, to(11, kTrace)),
      /* 12 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArg5Lo + 4),
      /* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi(setup.secret), to(13, kAllow), to(13, kTrace)),
      /* 14: kArg4 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArg4Lo),
      /* 15 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, lo(setup.secret), 0, to(15, kTrace)),
      /* 16: kArg4High */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArg4Lo + 4),
      /* 17 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi(setup.secret), to(17, kAllow), to(17, kTrace)),
      /* 18: kAllow */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      /* 19: kTrace */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
  };
  static_assert(sizeof filter / sizeof filter[0] == kTrace + 1);
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  // A seccomp filter makes the kernel turn on its speculative store bypass
  // mitigation for the process where it can, which slows every load that
  // follows a store: the program would run slower than it does natively,
  // where it has no filter. (A filter of the program's own still turns it
  // on, as natively.) Kernels before 4.17 know no such flag.
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, &program) == 0) return true;
  return errno == EINVAL && ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0;
}

bool is_untraced_shim_call(const ShimSetup& setup, std::uint64_t ip, long nr, const std::uint64_t* args) {
  // As the filter sees it: the number is the low 32 bits of rax.
  auto number = static_cast<std::uint32_t>(nr);
  if (!setup.base || ip != setup.base + header().untraced_return) return false;
  if (number == __NR_mmap) return args[TTDB_SECRET_ARG_RWV2] >> 32 == setup.secret >> 32;
  return args[secret_in_fifth(number) ? TTDB_SECRET_ARG_RWV2 : TTDB_SECRET_ARG] == setup.secret;
}

trace::Event shim_event(int tid, std::uint64_t base) {
  trace::Event e;
  e.kind = trace::EventKind::patch;
  e.tid = tid;
  e.args = {base, TTDB_SHIM_SIZE, 1, TTDB_SHIM_ABI_VERSION, 0, 0};
  trace::MemWrite code;
  code.addr = base;
  code.data.assign(shim_code, shim_code + shim_code_size);
  code.size = code.data.size();
  trace::MemWrite control;
  control.addr = base + TTDB_SHIM_CONTROL;
  control.data = initial_control();
  control.size = control.data.size();
  e.mem = {std::move(code), std::move(control)};
  return e;
}

bool is_shim_event(const trace::Event& e) { return e.kind == trace::EventKind::patch && e.args[2] == 1; }

ShimPlace apply_shim(Tracee& tracee, std::uint64_t syscall_insn, const trace::Event& e, ShimMode mode, std::uint64_t secret,
                     bool through_door) {
  std::uint64_t version = e.args[3];
  if (version < 1 || version > TTDB_SHIM_ABI_VERSION)
    fail("the trace was recorded with version {} of ttdb's syscall buffer, and this ttdb reads versions 1 to {}; "
         "replay it with the ttdb that recorded it, or record the program again",
         version, TTDB_SHIM_ABI_VERSION);
  std::uint64_t base = e.args[0];
  // Version 1's code holds absolute addresses of 0x70000000; version 2's runs anywhere.
  bool placed = version == 1 ? base == TTDB_SHIM_V1_BASE
                             : base % kPageSize == 0 && base >= kPageSize && base < (std::uint64_t{1} << 47) - TTDB_SHIM_SIZE;
  std::size_t control_size = version == 1 ? kControlV1Size : version <= 4 ? kControlV4Size : sizeof(Control);
  if (version >= 5 && version <= 6)
    control_size = e.mem.size() == 2 && e.mem[1].data.size() == kControlV6Size ? kControlV6Size : kControlV6CountedSize;
  if (version == 7)
    control_size = e.mem.size() == 2 && e.mem[1].data.size() == kControlV7Size ? kControlV7Size : kControlV7MappableSize;
  if (!placed || e.args[1] != TTDB_SHIM_SIZE || e.mem.size() != 2 || e.mem[0].addr != base ||
      e.mem[0].data.size() > TTDB_SHIM_CODE_SIZE || e.mem[1].addr != base + TTDB_SHIM_CONTROL ||
      e.mem[1].data.size() != control_size)
    fail("the syscall buffer's mapping at event {} is malformed", e.id);
  TTDB_CHECK(mode == ShimMode::replay || secret != 0, "a recording's syscall buffer needs its secret");
  ShimPlace shim(base);
  auto map = [&](std::uint64_t insn, std::uint64_t from, std::uint64_t size, int prot) {
    std::int64_t got = inject_syscall(tracee, insn, __NR_mmap,
                                      {from, size, static_cast<std::uint64_t>(prot),
                                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, static_cast<std::uint64_t>(-1), 0});
    if (got != static_cast<std::int64_t>(from))
      fail("cannot map ttdb's syscall buffer at {:#x}-{:#x} in process {}: {}", from, from + size, tracee.tid(),
           got == -EEXIST ? "the program has memory there"
           : is_error_result(got) ? errno_text(static_cast<int>(-got))
                                  : fmt::format("the kernel put it at {:#x}", got));
  };
  // Recording: the code first, executable at once (written through
  // /proc/PID/mem, as trampolines are), so that its data is a call through
  // the shim's door (ShimDoor): three stops where an mmap and an mprotect
  // take four. The word the door returns through is in the code's unused
  // end until the control block is there.
  if (mode == ShimMode::record && through_door && tracee.injections_stop_at_filter()) {
    map(syscall_insn, base, TTDB_SHIM_CODE_SIZE, PROT_READ | PROT_EXEC);
    write_checked(tracee, RemotePtr(base), e.mem[0].data);
    ShimDoor door = shim_door(shim, secret, syscall_insn);
    door.return_slot = base + TTDB_SHIM_CODE_SIZE - 8;
    tracee.set_shim_door(door);
    map(door.untraced_insn, shim.control(0).addr(), TTDB_SHIM_SIZE - TTDB_SHIM_CODE_SIZE, PROT_READ | PROT_WRITE);
    tracee.set_shim_door(shim_door(shim, secret, syscall_insn));
  } else {
    map(syscall_insn, base, TTDB_SHIM_SIZE, PROT_READ | PROT_WRITE);
    write_checked(tracee, RemotePtr(base), e.mem[0].data);
    checked_inject(tracee, syscall_insn, __NR_mprotect, {base, TTDB_SHIM_CODE_SIZE, PROT_READ | PROT_EXEC, 0, 0, 0},
                   "protect the syscall buffer's code");
  }
  write_checked(tracee, shim.control(0), e.mem[1].data);
  // Never in the trace: the program cannot read the trace while it runs,
  // but whoever replays it needs no secret.
  if (mode == ShimMode::record) write_field(tracee, CONTROL_FIELD(shim, secret), secret);
  std::uint32_t shim_mode = mode == ShimMode::record ? TTDB_SHIM_RECORD : TTDB_SHIM_REPLAY;
  write_field(tracee, CONTROL_FIELD(shim, mode), shim_mode);
  TTDB_LOG(record, "syscall buffer (version {}) mapped at {:#x} in {}", version, base, tracee.tid());
  return shim;
}

bool shim_in_call(Tracee& tracee, const ShimPlace& shim) {
  std::uint64_t in_call = 0;
  tracee.read_some(CONTROL_FIELD(shim, in_call), &in_call, sizeof in_call);
  return in_call != 0;
}

ShimDoor shim_door(const ShimPlace& shim, std::uint64_t secret, std::uint64_t traced_insn) {
  if (!shim || !secret || !traced_insn) return {};
  return ShimDoor{shim.syscall_instruction(), secret, CONTROL_FIELD(shim, stop_to).addr(), traced_insn};
}

void tell_shim_trampolines(Tracee& tracee, const ShimPlace& shim,
                           const std::vector<std::pair<std::uint64_t, std::uint64_t>>& pages) {
  struct {
    std::uint64_t count;
    std::uint64_t pages[TTDB_SHIM_TTDB_PAGES][2];
  } known{};
  static_assert(offsetof(Control, ttdb_pages) == offsetof(Control, ttdb_page_count) + 8);
  known.count = pages.size();  // (more than the shim has room for: it leaves every mprotect to the recorder)
  for (std::size_t i = 0; i < pages.size() && i < TTDB_SHIM_TTDB_PAGES; ++i) {
    known.pages[i][0] = pages[i].first;
    known.pages[i][1] = pages[i].second;
  }
  write_field(tracee, CONTROL_FIELD(shim, ttdb_page_count), known);
}

void put_back_sigtrap(Tracee& tracee, const ShimPlace& shim, std::uint64_t syscall_insn) {
  struct {
    std::uint64_t changed, mask;
  } trap{};
  static_assert(offsetof(Control, trap_mask) == offsetof(Control, trap_changed) + 8);
  // (A shim before version 5 leaves the field 0: it is past its control block.)
  if (tracee.read_some(CONTROL_FIELD(shim, trap_changed), &trap, sizeof trap) != sizeof trap || !trap.changed) return;
  if (trap.changed & 1) tracee.set_signal_mask(trap.mask);
  if (trap.changed & 2) {
    std::int64_t got = inject_syscall(tracee, syscall_insn, __NR_rt_sigaction,
                                      {SIGTRAP, CONTROL_FIELD(shim, trap_action).addr(), 0, 8, 0, 0});
    if (got != 0) throw InternalError(fmt::format("cannot put SIGTRAP's action back in {}: {}", tracee.tid(), got));
  }
  write_field(tracee, CONTROL_FIELD(shim, trap_changed), std::uint64_t{0});
}

void run_shim_apply_actions(Tracee& tracee, const ShimPlace& shim, std::uint64_t syscall_insn) {
  std::uint64_t offset = 0;
  static_assert(offsetof(ttdb_shim_header, apply_actions) == 32);
  if (tracee.read_some(RemotePtr(shim.start() + offsetof(ttdb_shim_header, apply_actions)), &offset, sizeof offset) !=
          sizeof offset ||
      offset == 0 || offset >= TTDB_SHIM_CODE_SIZE)
    throw InternalError(fmt::format("the syscall buffer of {} has no code to apply signal actions", tracee.tid()));
  run_until_trap(tracee, shim.start() + offset);
  // Its int3 left SIGTRAP neither blocked nor ignored (leave_sigtrap_alone).
  put_back_sigtrap(tracee, shim, syscall_insn);
}

ShimStops shim_stops(const trace::Event& patch, const ShimPlace& shim) {
  // (apply_shim checked the event: its first write is the shim's code.)
  ttdb_shim_header h{};
  const Bytes& code = patch.mem.at(0).data;
  if (patch.args[3] < 8 || code.size() < sizeof h) return {};
  std::memcpy(&h, code.data(), sizeof h);
  auto in_code = [](std::uint64_t offset) { return offset && offset < TTDB_SHIM_CODE_SIZE; };
  if (!in_code(h.stop_stub) || !in_code(h.untraced_return)) return {};
  return ShimStops{shim.start() + h.stop_stub, shim.start() + h.untraced_return};
}

void run_shim_free(Tracee& tracee, const ShimPlace& shim, const ShimStops& stops, bool free) {
  // (In replay the shim's flags are the replayer's: only this one is ever set.)
  write_field(tracee, CONTROL_FIELD(shim, flags), std::uint32_t{free ? TTDB_SHIM_FREE_RUN : 0u});
  write_field(tracee, CONTROL_FIELD(shim, selector), std::uint64_t{free ? 1u : 0u});
  // Each time: a fork (a checkpoint's) or an exec drops it.
  if (free) tracee.set_syscall_dispatch(true, stops.untraced_return, 1, CONTROL_FIELD(shim, selector));
}

std::optional<std::int64_t> take_made_difference(Tracee& tracee, const ShimPlace& shim) {
  struct {
    std::uint64_t differs;
    std::int64_t result;
  } made{};
  static_assert(offsetof(Control, made_result) == offsetof(Control, made_differs) + 8);
  if (tracee.read_some(CONTROL_FIELD(shim, made_differs), &made, sizeof made) != sizeof made || !made.differs)
    return std::nullopt;
  write_field(tracee, CONTROL_FIELD(shim, made_differs), std::uint64_t{0});
  return made.result;
}

void serve_tsc_in_shim(Tracee& tracee, const ShimPlace& shim, bool on) {
  write_field(tracee, CONTROL_FIELD(shim, serve_tsc), std::uint64_t{on ? 1u : 0u});
}

bool replay_makes_again(const trace::Event& e) {
  const SyscallInfo* info = find_syscall(e.nr);
  if (!info || info->buffering != Buffering::execute) return false;
  return !(e.nr == __NR_rt_sigaction && e.args[1] == 0);  // (an action only read)
}

bool sets_signal_action(const trace::Event& e) {
  return e.kind == trace::EventKind::syscall && e.nr == __NR_rt_sigaction && e.args[1] != 0 && e.ret == 0;
}

bool shim_makes_again(const trace::Event& e) {
  if (e.kind != trace::EventKind::syscall || !replay_makes_again(e) || e.nr == __NR_rt_sigaction) return false;
  return e.nr != __NR_mmap || (e.args[3] & MAP_ANONYMOUS) || shim_maps_file_again(e);
}

bool shim_maps_file_again(const trace::Event& e) {
  // A private view of a file the trace names, whole where the recording had
  // it (as map_recorded_file maps it), and not code (replay scans that).
  if (e.nr != __NR_mmap || (e.args[3] & MAP_ANONYMOUS) || (e.args[3] & MAP_TYPE) != MAP_PRIVATE ||
      (e.args[2] & PROT_EXEC) || !e.ret || is_error_result(*e.ret) || e.mem.size() != 1 || !e.mem[0].file)
    return false;
  return e.mem[0].addr == static_cast<std::uint64_t>(*e.ret) && e.mem[0].file_offset == e.args[5];
}

void set_shim_flags(Tracee& tracee, const ShimPlace& shim, bool slow_next, bool stop_after) {
  std::uint32_t flags = (slow_next ? TTDB_SHIM_SLOW_NEXT : 0) | (stop_after ? TTDB_SHIM_STOP_AFTER : 0);
  write_field(tracee, CONTROL_FIELD(shim, flags), flags);
}

void stop_buffering(Tracee& tracee, const ShimPlace& shim) {
  static const std::uint8_t traced[TTDB_SHIM_MAX_NR] = {};  // TTDB_HOW_TRACED
  write_checked(tracee, CONTROL_FIELD(shim, how), ByteView(traced, sizeof traced));
}

void trace_waits_in_shim(Tracee& tracee, const ShimPlace& shim) { trace_in_shim(tracee, shim, __NR_wait4); }

void trace_in_shim(Tracee& tracee, const ShimPlace& shim, long nr) {
  write_field(tracee, CONTROL_FIELD(shim, how) + static_cast<std::uint64_t>(nr), std::uint8_t{TTDB_HOW_TRACED});
}

void read_clocks_in_vdso(Tracee& tracee, const ShimPlace& shim,
                         const std::vector<std::pair<std::uint64_t, std::uint64_t>>& clocks) {
  std::uint64_t words[TTDB_SHIM_VDSO_CLOCKS][2] = {};
  for (std::size_t i = 0; i < clocks.size() && i < TTDB_SHIM_VDSO_CLOCKS; ++i) {
    words[i][0] = clocks[i].first;
    words[i][1] = clocks[i].second;
  }
  write_checked(tracee, CONTROL_FIELD(shim, vdso_clocks), ByteView(reinterpret_cast<const std::uint8_t*>(words), sizeof words));
}

void turn_shim_off(Tracee& tracee, const ShimPlace& shim) {
  write_field(tracee, CONTROL_FIELD(shim, mode), std::uint32_t{TTDB_SHIM_OFF});
  write_field(tracee, CONTROL_FIELD(shim, flags), std::uint32_t{0});
}

void trace_file_writes_in_shim(Tracee& tracee, const ShimPlace& shim) {
  write_field(tracee, CONTROL_FIELD(shim, trace_file_writes), std::uint64_t{1});
}

MappableVersion mappable_version(const struct stat& st) {
  auto ns = [](const timespec& t) { return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000 + static_cast<std::uint64_t>(t.tv_nsec); };
  return {st.st_dev, st.st_ino, static_cast<std::uint64_t>(st.st_size), ns(st.st_mtim), ns(st.st_ctim)};
}

void name_mappable_files(Tracee& tracee, const ShimPlace& shim, std::span<const MappableVersion> versions,
                         std::size_t from) {
  static_assert(sizeof(MappableVersion) == sizeof(Control{}.mappable[0]) && kMostMappableFiles == TTDB_SHIM_MAPPABLE);
  std::size_t count = std::min(versions.size(), kMostMappableFiles);
  if (from >= count) return;
  write_checked(tracee, CONTROL_FIELD(shim, mappable) + from * sizeof(MappableVersion),
                ByteView(reinterpret_cast<const std::uint8_t*>(versions.data() + from), (count - from) * sizeof(MappableVersion)));
  write_field(tracee, CONTROL_FIELD(shim, mappable_count), std::uint64_t{count});
}

void forget_shim_fds(Tracee& tracee, const ShimPlace& shim) {
  static const std::uint8_t unknown[TTDB_SHIM_MAX_FD] = {};
  write_checked(tracee, CONTROL_FIELD(shim, fd_kind), ByteView(unknown, sizeof unknown));
}

void trace_files_in_shim(Tracee& tracee, const ShimPlace& shim,
                         const std::array<std::pair<std::uint64_t, std::uint64_t>, 2>& files) {
  std::uint64_t words[2][2] = {{files[0].first, files[0].second}, {files[1].first, files[1].second}};
  write_checked(tracee, CONTROL_FIELD(shim, traced_files), ByteView(reinterpret_cast<const std::uint8_t*>(words), sizeof words));
  forget_shim_fds(tracee, shim);
}

}  // namespace ttdb
