#include "ttdb/tracer/thread_copy.h"

#include <asm/unistd_64.h>
#include <linux/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ttdb/base/error.h"
#include "ttdb/base/log.h"
#include "ttdb/tracer/inject.h"
#include "ttdb/tracer/syscall_table.h"

namespace ttdb {
namespace {

// Room on the thread's stack for what an injected syscall reads or writes.
constexpr std::uint8_t kRoom[32] = {};

void check_room(const StackScratch& scratch, Tracee& thread) {
  if (!scratch) throw InternalError(fmt::format("thread {} has no stack at {:#x}", thread.tid(), scratch.addr().addr()));
}

// Injects the syscall; a failure other than `tolerated` (an errno) throws.
std::int64_t checked_inject(Tracee& thread, std::uint64_t syscall_insn, long nr, const std::array<std::uint64_t, 6>& args,
                            int tolerated = 0) {
  std::int64_t result = inject_syscall(thread, syscall_insn, nr, args);
  if (is_error_result(result) && result != -tolerated)
    throw InternalError(fmt::format("syscall {} injected in thread {} failed: {}", nr, thread.tid(),
                                    errno_text(static_cast<int>(-result))));
  return result;
}

}  // namespace

ThreadCopy copy_thread(Tracee& thread, std::uint64_t syscall_insn) {
  ThreadCopy copy;
  copy.regs = thread.regs();
  copy.xstate = thread.xstate();
  copy.signal_mask = thread.signal_mask();
  // The tracer may read a tracee's robust list itself.
  struct robust_list_head* head = nullptr;
  std::size_t len = 0;
  if (::syscall(__NR_get_robust_list, thread.tid(), &head, &len) == 0) {
    copy.robust_list = reinterpret_cast<std::uintptr_t>(head);
    copy.robust_list_len = len;
  }
  // The tid address and the alternate stack only the thread itself can tell.
  StackScratch scratch(thread, ByteView(kRoom, sizeof kRoom));
  check_room(scratch, thread);
  std::uint64_t at = scratch.addr().addr();
  if (inject_syscall(thread, syscall_insn, __NR_prctl, {PR_GET_TID_ADDRESS, at}) == 0)
    copy.tid_address = thread.read_value<std::uint64_t>(scratch.addr());
  checked_inject(thread, syscall_insn, __NR_sigaltstack, {0, at});
  copy.altstack = thread.read_value<stack_t>(scratch.addr());
  return copy;
}

void restore_thread(Tracee& thread, std::uint64_t syscall_insn, const ThreadCopy& copy) {
  if (copy.robust_list) checked_inject(thread, syscall_insn, __NR_set_robust_list, {copy.robust_list, copy.robust_list_len});
  if (copy.tid_address) checked_inject(thread, syscall_insn, __NR_set_tid_address, {copy.tid_address});
  if (!(copy.altstack.ss_flags & SS_DISABLE)) {
    // Being on it is the thread's position, not a setting.
    stack_t altstack = copy.altstack;
    altstack.ss_flags &= ~SS_ONSTACK;
    StackScratch scratch(thread, ByteView(reinterpret_cast<const std::uint8_t*>(&altstack), sizeof altstack));
    check_room(scratch, thread);
    // EPERM: it is on its alternate stack, so it has it (a fork keeps it).
    checked_inject(thread, syscall_insn, __NR_sigaltstack, {scratch.addr().addr(), 0}, EPERM);
  }
  thread.set_signal_mask(copy.signal_mask);
  if (!copy.xstate.empty()) thread.set_xstate(copy.xstate);
  if (copy.at_syscall_entry)
    reenter_syscall(thread, syscall_insn, copy.regs);
  else
    thread.set_regs(copy.regs);
}

}  // namespace ttdb
