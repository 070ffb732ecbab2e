// What each syscall means to ttdb: its arguments (how they print, which are
// strings, input or output buffers) and what replay does with it. The facts
// live in src/syscalls.def; this is their parsed form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ttdb {

enum class ReplayPolicy {
  emulate,
  execute,
  execute_set_ret,
  mmap,
  execve,
  exit,
  signal_send,
  rseq,
  spawn,
  shm,
};

enum class ArgFormat {
  i, u, x, p, fd, dfd, s, mode, oflags, prot, mflags, sig, how, whence, clock, amode, atflags,
  sigmask, sigmask_pair,
  out,  // a buffer the kernel fills
  in,   // a buffer the program passes
};

// How many bytes an in/out buffer holds.
struct SizeRule {
  enum class From { ret, fixed, arg } from = From::fixed;
  std::uint64_t value = 0;  // the byte count (fixed) or the argument index (arg)
  std::uint64_t scale = 1;  // bytes per element

  // The size for a given call; 0 when nothing was written.
  std::uint64_t size(const std::uint64_t* args, std::int64_t ret) const;
};

struct ArgSpec {
  ArgFormat format = ArgFormat::x;
  SizeRule size;
};

// A kernel-internal restart code (ERESTARTSYS to ERESTART_RESTARTBLOCK): the
// signal about to be delivered decides whether the call starts again (the
// kernel moves rip back to the syscall instruction) or fails with EINTR.
inline bool is_restart_result(std::int64_t ret) { return ret <= -512 && ret >= -516; }
// A syscall's result that is an error (-errno).
inline bool is_error_result(std::int64_t ret) { return ret < 0 && ret > -4096; }

// Whether the in-process syscall buffer makes the syscall itself, and when.
enum class Buffering { none, plain, fd_read, fd_write, openat, fcntl, fd_pwrite, enosys, get, execute, nohang };

struct SyscallInfo {
  int nr = -1;
  std::string name;
  ReplayPolicy policy = ReplayPolicy::emulate;
  std::vector<ArgSpec> args;
  bool special = false;  // record_syscall.cc knows more about its memory
  bool ret_hex = false;
  bool ret_fd = false;  // the result is a new file descriptor
  Buffering buffering = Buffering::none;
};

// Every syscall ttdb models.
const std::vector<const SyscallInfo*>& all_syscalls();

// nullptr for a syscall ttdb does not model.
const SyscallInfo* find_syscall(long nr);
// Whether a thread's signal mask may be another after the call (it sets
// it, restores it from a signal frame, or waits with one of its own).
bool changes_signal_mask(long nr);
// "read", or "syscall_451" for one without a name.
std::string syscall_name(long nr);
std::optional<int> syscall_number(std::string_view name);
std::vector<std::pair<int, std::string>> all_syscall_names();

}  // namespace ttdb
