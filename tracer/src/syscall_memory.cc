#include "ttdb/tracer/syscall_memory.h"

#include <asm/unistd_64.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <linux/prctl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/futex.h>
#include <linux/keyctl.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "bpf_model.h"
#include "ioctl_model.h"
#include "ttdb/base/log.h"

namespace ttdb {
namespace {

using trace::MemWrite;

// The flag asking for the 64-bit layouts of the IPC structs (x86-64 has no other).
constexpr int kIpc64 = 0x100;
// Reads larger than this are recorded in pieces no bigger than it.
constexpr std::uint64_t kMaxCapture = 1ull << 31;

std::vector<iovec> read_iovecs(Tracee& tracee, std::uint64_t addr, std::uint64_t count) {
  std::vector<iovec> iov(std::min<std::uint64_t>(count, 1024));
  if (iov.empty()) return iov;
  std::size_t bytes = iov.size() * sizeof(iovec);
  if (tracee.read_some(RemotePtr(addr), iov.data(), bytes) != bytes) return {};
  return iov;
}

// `total` bytes spread over the iovecs in order, as readv fills them.
void capture_iovecs(Tracee& tracee, const std::vector<iovec>& iov, std::uint64_t total,
                    std::vector<MemWrite>& out) {
  for (const auto& v : iov) {
    if (total == 0) break;
    std::uint64_t n = std::min<std::uint64_t>(total, v.iov_len);
    capture_memory(tracee, reinterpret_cast<std::uint64_t>(v.iov_base), n, out);
    total -= n;
  }
}

// A socket address and its length word (accept, recvfrom, getsockname...).
void capture_sockaddr(Tracee& tracee, std::uint64_t addr, std::uint64_t len_ptr,
                      std::vector<MemWrite>& out) {
  if (len_ptr == 0) return;
  capture_memory(tracee, len_ptr, sizeof(socklen_t), out);
  socklen_t len = 0;
  if (tracee.read_some(RemotePtr(len_ptr), &len, sizeof len) == sizeof len)
    capture_memory(tracee, addr, std::min<socklen_t>(len, 128), out);
}

void capture_msghdr(Tracee& tracee, std::uint64_t addr, std::uint64_t received,
                    std::vector<MemWrite>& out) {
  msghdr msg{};
  if (tracee.read_some(RemotePtr(addr), &msg, sizeof msg) != sizeof msg) return;
  capture_memory(tracee, addr, sizeof msg, out);  // namelen, controllen and flags are updated
  capture_memory(tracee, reinterpret_cast<std::uint64_t>(msg.msg_name), msg.msg_namelen, out);
  capture_memory(tracee, reinterpret_cast<std::uint64_t>(msg.msg_control), msg.msg_controllen, out);
  capture_iovecs(tracee, read_iovecs(tracee, reinterpret_cast<std::uint64_t>(msg.msg_iov), msg.msg_iovlen),
                 received, out);
}

// What msgctl, semctl and shmctl write: a *_ds struct, an *info struct, or
// a semaphore set's values.
void capture_ipc_ctl(Tracee& tracee, const SyscallArgs& c, std::vector<MemWrite>& out) {
  const auto* a = c.a;
  int cmd = static_cast<int>(a[c.nr == __NR_semctl ? 2 : 1]) & ~kIpc64;
  std::uint64_t buf = c.nr == __NR_semctl ? a[3] : a[2];
  std::uint64_t size = 0;
  switch (c.nr) {
    case __NR_msgctl:
      if (cmd == IPC_STAT || cmd == MSG_STAT || cmd == MSG_STAT_ANY) size = sizeof(msqid_ds);
      if (cmd == IPC_INFO || cmd == MSG_INFO) size = sizeof(msginfo);
      break;
    case __NR_shmctl:
      if (cmd == IPC_STAT || cmd == SHM_STAT || cmd == SHM_STAT_ANY) size = sizeof(shmid_ds);
      if (cmd == IPC_INFO) size = sizeof(shminfo);
      if (cmd == SHM_INFO) size = sizeof(shm_info);
      break;
    case __NR_semctl:
      if (cmd == IPC_STAT || cmd == SEM_STAT || cmd == SEM_STAT_ANY) size = sizeof(semid_ds);
      if (cmd == IPC_INFO || cmd == SEM_INFO) size = sizeof(seminfo);
      if (cmd == GETALL) {
        // As many values as the set holds: ttdb asks the kernel itself.
        semid_ds ds{};
        if (::semctl(static_cast<int>(a[0]), 0, IPC_STAT, &ds) == 0) size = ds.sem_nsems * sizeof(unsigned short);
      }
      break;
    default: break;
  }
  capture_memory(tracee, buf, size, out);
}

std::uint64_t fd_set_bytes(std::uint64_t nfds) { return ((nfds + 63) / 64) * 8; }

// The special entries of syscalls.def.
void capture_special(Tracee& tracee, const SyscallArgs& c, std::int64_t ret,
                     std::vector<MemWrite>& out) {
  const auto* a = c.a;
  switch (c.nr) {
    case __NR_ioctl:
      if (ret >= 0)
        for (auto [addr, size] : ioctl_writes(tracee, a[1], a[2]).value_or(std::vector<WrittenRange>{}))
          capture_memory(tracee, addr, size, out);
      break;
    case __NR_fcntl:
      if (ret >= 0 && (a[1] == F_GETLK || a[1] == F_OFD_GETLK)) capture_memory(tracee, a[2], sizeof(flock), out);
      if (ret >= 0 && a[1] == F_GETOWN_EX) capture_memory(tracee, a[2], sizeof(f_owner_ex), out);
      if (ret >= 0 && (a[1] == F_GET_RW_HINT || a[1] == F_GET_FILE_RW_HINT)) capture_memory(tracee, a[2], 8, out);
      break;
    case __NR_readv:
    case __NR_preadv:
    case __NR_preadv2:
      if (ret > 0) capture_iovecs(tracee, read_iovecs(tracee, a[1], a[2]), static_cast<std::uint64_t>(ret), out);
      break;
    case __NR_recvmsg:
      if (ret >= 0) capture_msghdr(tracee, a[1], static_cast<std::uint64_t>(ret), out);
      break;
    case __NR_recvmmsg:
      if (ret > 0) {
        for (std::int64_t i = 0; i < ret; ++i) {
          std::uint64_t entry = a[1] + static_cast<std::uint64_t>(i) * sizeof(mmsghdr);
          unsigned received = 0;
          tracee.read_some(RemotePtr(entry + offsetof(mmsghdr, msg_len)), &received, sizeof received);
          capture_msghdr(tracee, entry, received, out);
          capture_memory(tracee, entry + offsetof(mmsghdr, msg_len), sizeof received, out);
        }
      }
      break;
    case __NR_recvfrom:
      if (ret >= 0) capture_sockaddr(tracee, a[4], a[5], out);
      break;
    case __NR_accept:
    case __NR_accept4:
    case __NR_getsockname:
    case __NR_getpeername:
      if (ret >= 0) capture_sockaddr(tracee, a[1], a[2], out);
      break;
    case __NR_getsockopt:
      if (ret >= 0) {
        capture_memory(tracee, a[4], sizeof(socklen_t), out);
        socklen_t len = 0;
        if (tracee.read_some(RemotePtr(a[4]), &len, sizeof len) == sizeof len) capture_memory(tracee, a[3], len, out);
      }
      break;
    case __NR_select:
    case __NR_pselect6:
      for (int i = 1; i <= 3; ++i) capture_memory(tracee, a[i], fd_set_bytes(a[0]), out);
      capture_memory(tracee, a[4], 16, out);
      break;
    case __NR_mincore:
      if (ret == 0) capture_memory(tracee, a[2], (a[1] + 4095) / 4096, out);
      break;
    case __NR_prctl:
      if (ret >= 0 && a[0] == PR_GET_NAME) capture_memory(tracee, a[1], 16, out);
      // The options that answer through an int the program points to.
      if (ret >= 0 && (a[0] == PR_GET_PDEATHSIG || a[0] == PR_GET_TSC || a[0] == PR_GET_CHILD_SUBREAPER ||
                       a[0] == PR_GET_UNALIGN || a[0] == PR_GET_FPEMU || a[0] == PR_GET_FPEXC || a[0] == PR_GET_ENDIAN))
        capture_memory(tracee, a[1], sizeof(int), out);
      if (ret >= 0 && a[0] == PR_GET_TID_ADDRESS) capture_memory(tracee, a[1], 8, out);
      break;
    case __NR_sendfile:
      if (ret >= 0) capture_memory(tracee, a[2], 8, out);
      break;
    case __NR_futex:
      // The words the kernel changes itself: WAKE_OP's second one, a PI lock's owner.
      if (ret >= 0) {
        int op = static_cast<int>(a[1]) & FUTEX_CMD_MASK;
        if (op == FUTEX_LOCK_PI || op == FUTEX_LOCK_PI2 || op == FUTEX_UNLOCK_PI || op == FUTEX_TRYLOCK_PI)
          capture_memory(tracee, a[0], sizeof(std::uint32_t), out);
        if (op == FUTEX_WAKE_OP || op == FUTEX_WAIT_REQUEUE_PI || op == FUTEX_CMP_REQUEUE_PI)
          capture_memory(tracee, a[4], sizeof(std::uint32_t), out);
      }
      break;
    case __NR_splice:
    case __NR_copy_file_range:
      // The offsets the kernel moved on.
      if (ret >= 0) {
        capture_memory(tracee, a[1], 8, out);
        capture_memory(tracee, a[3], 8, out);
      }
      break;
    case __NR_sendmmsg:
      for (std::int64_t i = 0; i < ret; ++i)
        capture_memory(tracee, a[1] + static_cast<std::uint64_t>(i) * sizeof(mmsghdr) + offsetof(mmsghdr, msg_len),
                sizeof(unsigned), out);
      break;
    case __NR_vmsplice:
    case __NR_process_vm_readv:
      if (ret > 0) capture_iovecs(tracee, read_iovecs(tracee, a[1], a[2]), static_cast<std::uint64_t>(ret), out);
      break;
    case __NR_process_vm_writev:
      // Only into the caller itself (unrecordable() refuses the others).
      if (ret > 0) capture_iovecs(tracee, read_iovecs(tracee, a[3], a[4]), static_cast<std::uint64_t>(ret), out);
      break;
    case __NR_keyctl:
      // A description, payload or security label, and its full size as the result.
      if (ret > 0 && (a[0] == KEYCTL_DESCRIBE || a[0] == KEYCTL_READ || a[0] == KEYCTL_GET_SECURITY ||
                      a[0] == KEYCTL_DH_COMPUTE))
        capture_memory(tracee, a[2], std::min<std::uint64_t>(static_cast<std::uint64_t>(ret), a[3]), out);
      break;
    case __NR_bpf: capture_bpf(tracee, a, ret, out); break;
    case __NR_get_mempolicy:
      if (ret == 0) capture_memory(tracee, a[1], std::min<std::uint64_t>((a[2] + 63) / 64 * 8, 4096), out);
      break;
    case __NR_name_to_handle_at: {
      // A struct file_handle: its size word is written even when too small.
      std::uint32_t bytes = 0;
      tracee.read_some(RemotePtr(a[2]), &bytes, sizeof bytes);
      capture_memory(tracee, a[2], 8 + (ret == 0 ? std::min<std::uint32_t>(bytes, 128) : 0), out);
      break;
    }
    case __NR_shmat:
      // The segment's content as the caller sees it now; ttdb asks its size.
      if (!is_error_result(ret)) {
        shmid_ds ds{};
        if (::shmctl(static_cast<int>(a[0]), IPC_STAT, &ds) == 0) capture_memory(tracee, static_cast<std::uint64_t>(ret), ds.shm_segsz, out);
      }
      break;
    case __NR_msgrcv:
      if (ret >= 0) capture_memory(tracee, a[1], sizeof(long) + static_cast<std::uint64_t>(ret), out);
      break;
    case __NR_msgctl:
    case __NR_semctl:
    case __NR_shmctl:
      if (ret >= 0) capture_ipc_ctl(tracee, c, out);
      break;
    default: break;
  }
}

}  // namespace

std::optional<std::string> unrecordable(Tracee& tracee, pid_t tgid, const SyscallInfo* info, const SyscallArgs& call,
                                        std::int64_t ret) {
  // A call that failed changed nothing.
  if (is_error_result(ret)) return std::nullopt;
  if (!info) return fmt::format("{}, which ttdb does not model", syscall_name(call.nr));
  switch (call.nr) {
    case __NR_ioctl:
      if (!ioctl_writes(tracee, call.a[1], call.a[2]))
        return fmt::format("ioctl request {:#x}, whose effect on memory ttdb does not know", call.a[1] & 0xffffffffu);
      break;
    case __NR_process_vm_writev:
      if (static_cast<pid_t>(call.a[0]) != tgid) return "process_vm_writev into another process's memory";
      break;
    case __NR_bpf: return bpf_unrecordable(call.a[0]);
    default: break;
  }
  return std::nullopt;
}

bool has_input(const SyscallInfo* info) {
  if (!info) return false;
  switch (info->nr) {
    case __NR_writev: case __NR_pwritev: case __NR_pwritev2: case __NR_sendmsg: return true;
    default: break;
  }
  return std::any_of(info->args.begin(), info->args.end(),
                     [](const ArgSpec& arg) { return arg.format == ArgFormat::in; });
}

Bytes gather_input(Tracee& tracee, const SyscallInfo* info, const SyscallArgs& call) {
  Bytes out;
  auto append = [&](std::uint64_t addr, std::uint64_t size) {
    if (addr == 0 || size == 0) return;
    std::size_t old = out.size();
    out.resize(old + std::min(size, kMaxCapture));
    out.resize(old + tracee.read_some(RemotePtr(addr), out.data() + old, out.size() - old));
  };
  auto append_iovecs = [&](std::uint64_t addr, std::uint64_t count) {
    for (const auto& v : read_iovecs(tracee, addr, count))
      append(reinterpret_cast<std::uint64_t>(v.iov_base), v.iov_len);
  };
  switch (call.nr) {
    case __NR_writev: case __NR_pwritev: case __NR_pwritev2:
      append_iovecs(call.a[1], call.a[2]);
      return out;
    case __NR_sendmsg: {
      msghdr msg{};
      if (tracee.read_some(RemotePtr(call.a[1]), &msg, sizeof msg) == sizeof msg)
        append_iovecs(reinterpret_cast<std::uint64_t>(msg.msg_iov), msg.msg_iovlen);
      return out;
    }
    default: break;
  }
  if (!info) return out;
  for (std::size_t i = 0; i < info->args.size(); ++i)
    if (info->args[i].format == ArgFormat::in) append(call.a[i], info->args[i].size.size(call.a, 0));
  return out;
}

std::optional<SpawnArgs> spawn_args(Tracee& tracee, const SyscallArgs& call) {
  const auto* a = call.a;
  SpawnArgs spawn;
  switch (call.nr) {
    case __NR_fork: spawn.flags = SIGCHLD; return spawn;
    case __NR_vfork: spawn.flags = CLONE_VM | CLONE_VFORK | SIGCHLD; return spawn;
    case __NR_clone:
      // clone(flags, stack, parent_tid, child_tid, tls); a pidfd goes where parent_tid would.
      spawn.flags = a[0];
      if (a[0] & CLONE_PARENT_SETTID) spawn.parent_tid = a[2];
      if (a[0] & CLONE_PIDFD) spawn.pidfd = a[2];
      if (a[0] & CLONE_CHILD_SETTID) spawn.child_tid = a[3];
      return spawn;
    case __NR_clone3: {
      clone_args args{};
      std::size_t size = std::min<std::size_t>(a[1], sizeof args);
      if (size < CLONE_ARGS_SIZE_VER0 || tracee.read_some(RemotePtr(a[0]), &args, size) != size) return std::nullopt;
      spawn.flags = args.flags | (args.exit_signal & CSIGNAL);
      if (args.flags & CLONE_PARENT_SETTID) spawn.parent_tid = args.parent_tid;
      if (args.flags & CLONE_PIDFD) spawn.pidfd = args.pidfd;
      if (args.flags & CLONE_CHILD_SETTID) spawn.child_tid = args.child_tid;
      return spawn;
    }
    default: return std::nullopt;
  }
}

void drop_untraced_flag(Tracee& tracee, const SyscallArgs& call) {
  if (call.nr == __NR_clone && (call.a[0] & CLONE_UNTRACED)) {
    Registers regs = tracee.regs();  // (replay may have added flags of its own)
    regs.rdi &= ~std::uint64_t{CLONE_UNTRACED};
    tracee.set_regs(regs);
  } else if (call.nr == __NR_clone3) {
    std::uint64_t flags = 0;
    if (tracee.read_some(RemotePtr(call.a[0]), &flags, sizeof flags) == sizeof flags && (flags & CLONE_UNTRACED))
      tracee.write_value<std::uint64_t>(RemotePtr(call.a[0]), flags & ~std::uint64_t{CLONE_UNTRACED});
  }
}

std::vector<MemWrite> capture_outputs(Tracee& tracee, const SyscallInfo* info, const SyscallArgs& call,
                                      std::int64_t ret) {
  std::vector<MemWrite> out;
  if (!info) return out;
  // What the kernel wrote in the parent's memory: the child's tid and its pidfd.
  if (info->policy == ReplayPolicy::spawn && ret > 0)
    if (auto spawn = spawn_args(tracee, call)) {
      capture_memory(tracee, spawn->parent_tid, sizeof(pid_t), out);
      capture_memory(tracee, spawn->pidfd, sizeof(int), out);
    }
  for (std::size_t i = 0; i < info->args.size(); ++i) {
    const auto& arg = info->args[i];
    if (arg.format != ArgFormat::out) continue;
    // Sizes that depend on the result mean nothing on failure.
    if (arg.size.from == SizeRule::From::ret && ret <= 0) continue;
    capture_memory(tracee, call.a[i], arg.size.size(call.a, ret), out);
  }
  if (info->special) capture_special(tracee, call, ret, out);
  return out;
}

void capture_memory(Tracee& tracee, std::uint64_t addr, std::uint64_t size, std::vector<trace::MemWrite>& out) {
  if (addr == 0 || size == 0) return;
  size = std::min(size, kMaxCapture);
  Bytes data(size);
  std::size_t got = tracee.read_some(RemotePtr(addr), data.data(), size);
  if (got == 0) return;
  data.resize(got);
  trace::MemWrite write;
  write.addr = addr;
  write.size = got;
  write.data = std::move(data);
  out.push_back(std::move(write));
}

}  // namespace ttdb
