// One stopped-or-running tracee thread, and every way ttdb touches it:
// registers, memory (through /proc/PID/mem), signals, resuming and waiting.
// A Tracee that is destroyed while its process lives kills and reaps it, so
// that no error path leaves a stopped program behind.
#pragma once

#include <sys/ptrace.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/user.h>

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <span>
#include <vector>

#include "ttdb/base/bytes.h"
#include "ttdb/base/unique_fd.h"
#include "ttdb/tracer/remote.h"
#include "ttdb/tracer/wait_status.h"

namespace ttdb {

using Registers = user_regs_struct;

// How a stopped thread goes on. `sysemu` (PTRACE_SYSEMU) stops it at its
// next syscall's entry, which the kernel then skips: the tracer gives the
// result there, one stop for the call rather than two.
enum class Resume { cont, syscall, singlestep, listen, sysemu };

// Puts a syscall's six arguments in their registers (rdi, rsi, rdx, r10, r8, r9).
inline void set_syscall_args(Registers& regs, const std::uint64_t* args) {
  regs.rdi = args[0];
  regs.rsi = args[1];
  regs.rdx = args[2];
  regs.r10 = args[3];
  regs.r8 = args[4];
  regs.r9 = args[5];
}

// The six argument registers, in order.
inline std::array<std::uint64_t, 6> syscall_args(const Registers& regs) {
  return {regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9};
}

// A recording's way to make a syscall in its process in one stop rather
// than two (inject_syscall): the shim's own syscall instruction, whose
// calls the seccomp filter lets through when they carry the secret, with
// the return address in a word of the shim's, pointing at a syscall
// instruction the filter stops at (the vDSO's). That stop is the end of
// the injected call, whose result is then in orig_rax.
struct ShimDoor {
  std::uint64_t untraced_insn = 0;  // 0: no door
  std::uint64_t secret = 0;
  std::uint64_t return_slot = 0;
  std::uint64_t traced_insn = 0;
};

class Tracee {
 public:
  // Takes ownership of an already seized, stopped thread.
  explicit Tracee(pid_t tid);
  ~Tracee();
  Tracee(const Tracee&) = delete;
  Tracee& operator=(const Tracee&) = delete;
  Tracee(Tracee&& other) noexcept;

  pid_t tid() const { return tid_; }
  // Whether its process is ttdb's own child (ttdb started it, or made it
  // with CLONE_PARENT), read from /proc until it is: a process's parent
  // changes only when that parent dies, and ttdb outlives its tracees.
  bool is_ttdb_child();
  void known_ttdb_child() { ttdb_child_ = true; }
  bool alive() const { return !exit_.has_value(); }
  const std::optional<WaitStatus>& exit_status() const { return exit_; }

  // Registers are read once per stop and cached until the next resume.
  const Registers& regs();
  // Where it stands: from the registers or the syscall info already read
  // at this stop, else from the registers.
  std::uint64_t pc();
  void set_regs(const Registers& regs);
  // Debug registers DR0-DR7 (hardware watchpoints); 0 when gone.
  std::uint64_t debug_register(int index);
  void set_debug_register(int index, std::uint64_t value);
  // The whole extended state (x87, SSE, AVX...), as XSAVE lays it out.
  Bytes xstate();
  void set_xstate(ByteView xstate);

  // False when the tracee is gone.
  bool resume(Resume how, int sig = 0);
  // Waits for the next stop or the end. EINTR is retried.
  WaitStatus wait();
  // Takes a status waitpid(-1) reported for this tracee, as wait() would;
  // false when it was the stop of a late interrupt, absorbed (the tracee was
  // resumed again, and there is nothing to handle).
  bool take_status(int raw, WaitStatus& status);
  // Like wait(), but gives up after `timeout` (no status).
  std::optional<WaitStatus> wait_for(std::chrono::milliseconds timeout);
  // A PTRACE_INTERRUPT reached the tracee when it was stopped already: its
  // stop will come at the next resume, before anything runs. wait() then
  // resumes the tracee again instead of reporting it.
  void expect_stray_interrupt() { stray_interrupt_ = true; }
  // Stops a running tracee (PTRACE_INTERRUPT); the stop is reported by wait().
  void interrupt();
  // Every syscall ttdb injects stops at a seccomp filter that traces it
  // (recording with the syscall buffer, no filter of the program's own that
  // could refuse it first): inject_syscall() then lets the tracee run to
  // that stop rather than stop at the entry too.
  void set_injections_stop_at_filter(bool on) { injections_stop_at_filter_ = on; }
  bool injections_stop_at_filter() const { return injections_stop_at_filter_; }
  // Where the process's shim lets ttdb in (recording, once it has one).
  void set_shim_door(const ShimDoor& door) { door_ = door; }
  const ShimDoor& shim_door() const { return door_; }
  // Stopped at the entry of a syscall that a `sysemu` resume reached: the
  // kernel skips the call whatever its registers say, and returns to the
  // program with the result the tracer sets.
  bool at_sysemu_entry() const { return at_sysemu_entry_; }
  // The tracer gave that call its result: the call is over, as at its exit.
  // Resumed by `syscall` or `singlestep` from there, the thread would stop
  // at the skipped call's exit first: resume() takes that stop and goes on.
  void mark_sysemu_done() { sysemu_done_ = at_sysemu_entry_; }
  // The same at a seccomp stop whose call the tracer skipped (orig_rax -1)
  // after giving the thread its registers back (inject_syscall's door).
  void mark_entry_skipped() { sysemu_done_ = true; }
  // Stopped at a syscall's entry with the call still to come (not one the
  // kernel skips and the tracer gave its result).
  bool entering_syscall() { return syscall_info().op == PTRACE_SYSCALL_INFO_ENTRY && !sysemu_done_; }
  // Stopped to deliver a signal (a signal-delivery stop): the one stop a
  // resume's signal is sure to be delivered from.
  bool at_signal_stop() const { return signal_stop_; }
  // Signals that arrived while ttdb ran a syscall of its own in the tracee
  // (a child's SIGCHLD, say): kept from the program then, for whoever drives
  // the tracee to deliver later, or to drop.
  void defer_signal(const siginfo_t& info) { deferred_signals_.push_back(info); }
  std::vector<siginfo_t> take_deferred_signals() { return std::exchange(deferred_signals_, {}); }

  siginfo_t siginfo();
  void set_siginfo(const siginfo_t& info);
  unsigned long event_message();
  // The kernel's view of the current syscall stop (entry, exit or seccomp).
  __ptrace_syscall_info syscall_info();
  // The signals queued for this thread or its process, as a bit mask
  // (bit N-1 for signal N), without dequeuing them.
  std::uint64_t pending_signals();
  // The thread's blocked signals (bit N-1 for signal N).
  std::uint64_t signal_mask();
  void set_signal_mask(std::uint64_t mask);
  // Syscall user dispatch (PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG, Linux
  // 6.4): while the byte at `selector` is 1, a syscall of the thread's from
  // anywhere but [from, from + length) (where it returns) raises SIGSYS
  // instead of running. `on` false turns it off. False when the kernel refuses.
  bool set_syscall_dispatch(bool on, std::uint64_t from = 0, std::uint64_t length = 0, RemotePtr selector = RemotePtr(0));

  // Memory. read_some returns how many bytes it could read (short at an
  // unmapped page); read_bytes and read_value throw when any byte is missing.
  std::size_t read_some(RemotePtr addr, void* out, std::size_t size);
  Bytes read_bytes(RemotePtr addr, std::size_t size);
  std::optional<Bytes> try_read_bytes(RemotePtr addr, std::size_t size);
  // Reads several ranges at once (one syscall for up to IOV_MAX of them):
  // each piece's bytes from its address. False when any byte is missing.
  struct ReadPiece {
    RemotePtr addr;
    std::span<std::uint8_t> out;
  };
  bool read_scattered(std::span<const ReadPiece> pieces);
  template <typename T>
  T read_value(RemotePtr addr) {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    read_exact(addr, &value, sizeof value);
    return value;
  }
  // A NUL-terminated string of at most `max` bytes; nullopt when unreadable.
  std::optional<std::string> read_c_string(RemotePtr addr, std::size_t max = 4096);
  // Writes even to read-only pages (as a debugger does). False when unmapped.
  bool write_bytes(RemotePtr addr, ByteView data);
  // The same, faster for memory the program may write itself (its data,
  // the shim's buffer), slower for code: a try of the direct way first.
  bool write_data(RemotePtr addr, ByteView data);
  // Writes `pieces` one after the other from `addr`, as write_data does.
  bool write_gathered(RemotePtr addr, std::span<const ByteView> pieces);
  template <typename T>
  bool write_value(RemotePtr addr, const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    return write_bytes(addr, ByteView(reinterpret_cast<const std::uint8_t*>(&value), sizeof value));
  }
  // After an exec the address space is new: the memory file must be reopened.
  void reopen_memory();
  // A thread that exec'd while it was not its process's first thread takes
  // that thread's tid (the kernel's de_thread); its old tid is gone.
  void take_over_tid(pid_t tid);

  // Kills the process and reaps it; the exit status says how it ended.
  void kill();
  // Gives up ownership without killing (the process has been reaped elsewhere).
  void forget() { exit_ = WaitStatus::decode(0); }
  // Lets the stopped thread run on untraced, and gives it up.
  void detach();

 private:
  void read_exact(RemotePtr addr, void* out, std::size_t size);
  // Writes data from `done` on through /proc/PID/mem.
  bool write_through_mem(RemotePtr addr, ByteView data, std::size_t done);
  // A stop (or the end) waitpid reported: what is known of the thread follows it.
  WaitStatus note_stop(int raw);
  // Waits for the thread's next stop or end, as waitpid reports it.
  int wait_raw();
  // A new stop (or none): what was read of the last one is stale.
  void forget_stop() {
    regs_valid_ = false;
    info_.reset();
    signal_stop_ = false;
  }

  pid_t tid_ = -1;
  UniqueFd mem_;
  Registers regs_{};
  bool regs_valid_ = false;
  // The stop's syscall info, read once per stop (replay asked for it twice).
  std::optional<__ptrace_syscall_info> info_;
  std::optional<WaitStatus> exit_;
  std::pair<Resume, int> last_resume_{Resume::cont, 0};
  bool stray_interrupt_ = false;
  bool at_sysemu_entry_ = false;
  bool sysemu_done_ = false;
  bool signal_stop_ = false;
  std::optional<int> pending_raw_;  // a status resume() took out of turn (the thread ended)
  bool injections_stop_at_filter_ = false;
  ShimDoor door_;
  std::vector<siginfo_t> deferred_signals_;
  bool ttdb_child_ = false;
};

// A stop or an end that waitpid(-1) reported, for the tracee whose tid it is.
struct AnyStop {
  pid_t tid = 0;
  int raw = 0;
};
// Waits for any tracee's next stop or end (EINTR retried); nullopt when
// `timeout` passes first, or when there is no tracee left.
std::optional<AnyStop> wait_any(std::optional<std::chrono::milliseconds> timeout = std::nullopt);

}  // namespace ttdb
