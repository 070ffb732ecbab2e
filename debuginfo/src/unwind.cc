#include "unwind.h"

#include <elfutils/libdw.h>
#include <sys/uio.h>

#include <array>
#include <cstdlib>
#include <optional>

namespace ttdb {

// libdw's unwinder reads the stopped program's registers and memory through
// the callbacks below, and call frame information from the modules
// debuginfo.cc reports, which include the libraries replay maps as anonymous
// memory (invisible to unwinders that look for files in /proc/PID/maps).
namespace {

// What the callbacks read: the stopped program of the current backtrace.
struct Target {
  pid_t pid = 0;
  const user_regs_struct* regs = nullptr;
};

// libdw sees one thread with this id, whichever process replays the program now.
constexpr pid_t kThread = 1;

pid_t next_thread(Dwfl*, void* arg, void** thread_arg) {
  if (*thread_arg) return 0;
  *thread_arg = arg;
  return kThread;
}

bool read_word(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result, void* arg) {
  auto* target = static_cast<Target*>(arg);
  iovec local{result, sizeof *result};
  iovec remote{reinterpret_cast<void*>(addr), sizeof *result};  // NOLINT: an address in another process
  return process_vm_readv(target->pid, &local, 1, &remote, 1, 0) == sizeof *result;
}

bool initial_registers(Dwfl_Thread* thread, void* arg) {
  const user_regs_struct& r = *static_cast<Target*>(arg)->regs;
  Dwarf_Word regs[17] = {r.rax, r.rdx, r.rcx, r.rbx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8,
                         r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip};
  return dwfl_thread_state_registers(thread, 0, 17, regs);
}

std::array<std::uint64_t, 17> dwarf_registers(const user_regs_struct& r) {
  return {r.rax, r.rdx, r.rcx, r.rbx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8,
          r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip};
}

const Dwfl_Thread_Callbacks kCallbacks = {next_thread, nullptr, read_word, initial_registers, nullptr, nullptr};

// libdw keeps the callbacks' argument for the Dwfl's life: each walk points
// it at the program and registers it unwinds.
Target current_target;

// Appends the frames libdw finds above the one `regs` describes, which is
// frames.back() already, up to `limit` frames in all.
void walk(Dwfl* dwfl, pid_t pid, const user_regs_struct& regs, std::size_t limit, std::vector<Frame>& frames) {
  current_target.pid = pid;
  current_target.regs = &regs;
  struct Walk {
    std::vector<Frame>* frames;
    std::size_t limit;
    bool seen_innermost = false;
  } walk{&frames, limit, false};
  auto on_frame = [](Dwfl_Frame* state, void* arg) -> int {
    auto& w = *static_cast<Walk*>(arg);
    if (w.frames->size() >= w.limit) return DWARF_CB_ABORT;
    Dwarf_Addr pc = 0;
    bool activation = false;
    if (!dwfl_frame_pc(state, &pc, &activation)) return DWARF_CB_ABORT;
    if (!w.seen_innermost) {  // the first: its registers are known exactly already
      w.seen_innermost = true;
      return DWARF_CB_OK;
    }
    Frame f;
    f.level = f.machine_level = static_cast<int>(w.frames->size());
    f.pc = pc;
    f.exact_pc = activation;  // libdw's word for it
    f.regs[16] = pc;
    f.known[16] = true;
    for (unsigned r = 0; r < 16; ++r) {
      Dwarf_Word value = 0;
      if (dwfl_frame_reg(state, r, &value) == 0) {
        f.regs[r] = value;
        f.known[r] = true;
      }
    }
    // The ABI's callee-saved registers that the call frame information
    // does not mention kept their value (DWARF's "same value" rule, which
    // libdw does not always apply).
    const Frame& inner = w.frames->back();
    for (unsigned r : {3u, 6u, 12u, 13u, 14u, 15u})
      if (!f.known[r] && inner.known[r]) {
        f.regs[r] = inner.regs[r];
        f.known[r] = true;
      }
    if (!f.known[7] || pc == 0) return DWARF_CB_ABORT;
    if (f.regs[7] <= w.frames->back().regs[7] && w.frames->size() > 1) return DWARF_CB_ABORT;  // not going up
    w.frames->back().cfa = f.regs[7];  // a frame's CFA is its caller's stack pointer
    w.frames->push_back(f);
    return DWARF_CB_OK;
  };
  dwfl_getthread_frames(dwfl, kThread, on_frame, &walk);
}

// True when call frame information (.eh_frame or .debug_frame) covers `pc`.
bool has_cfi(Dwfl* dwfl, Dwarf_Addr pc) {
  Dwfl_Module* module = dwfl_addrmodule(dwfl, pc);
  if (!module) return false;
  Dwarf_Addr bias = 0;
  auto covers = [&](Dwarf_CFI* cfi) {
    Dwarf_Frame* frame = nullptr;
    if (!cfi || dwarf_cfi_addrframe(cfi, pc - bias, &frame) != 0) return false;
    std::free(frame);
    return true;
  };
  return covers(dwfl_module_eh_cfi(module, &bias)) || covers(dwfl_module_dwarf_cfi(module, &bias));
}

// The caller of a frame without call frame information, as gdb assumes it:
// nothing pushed yet, so the return address is at the stack pointer, and
// the callee-saved registers are as they are. glibc's clone3 ends its CFI
// before its syscall (the new thread must not unwind into its parent), so a
// thread stopped there needs this to show pthread_create and main.
std::optional<user_regs_struct> frameless_caller(Dwfl* dwfl, pid_t pid, const user_regs_struct& regs) {
  Target target{pid, &regs};
  Dwarf_Word return_address = 0;
  if (!read_word(dwfl, regs.rsp, &return_address, &target) || !dwfl_addrmodule(dwfl, return_address)) return std::nullopt;
  user_regs_struct caller = regs;
  caller.rip = return_address;
  caller.rsp = regs.rsp + 8;
  return caller;
}

Frame caller_frame(const user_regs_struct& caller) {
  Frame f;
  f.level = f.machine_level = 1;
  f.pc = caller.rip;
  f.regs = dwarf_registers(caller);
  for (int r : {3, 6, 7, 12, 13, 14, 15, 16}) f.known[static_cast<std::size_t>(r)] = true;  // rbx, rbp, rsp, r12-r15, rip
  return f;
}

}  // namespace

std::vector<Frame> unwind(Dwfl* dwfl, bool& attached, pid_t pid, const user_regs_struct& regs, std::size_t limit) {
  Frame innermost;
  innermost.pc = regs.rip;
  innermost.regs = dwarf_registers(regs);
  innermost.known.fill(true);
  std::vector<Frame> frames{innermost};
  if (!attached) attached = dwfl_attach_state(dwfl, nullptr, kThread, &kCallbacks, &current_target);
  if (!attached) return frames;
  walk(dwfl, pid, regs, limit, frames);
  if (frames.size() > 1 || limit < 2 || has_cfi(dwfl, regs.rip)) return frames;
  auto caller = frameless_caller(dwfl, pid, regs);
  if (!caller) return frames;
  frames.back().cfa = caller->rsp;
  frames.push_back(caller_frame(*caller));
  // libdw takes the first frame's pc as where it stands, not as a return
  // address: the caller's call frame information is that of the call, just before.
  user_regs_struct in_call = *caller;
  in_call.rip -= 1;
  walk(dwfl, pid, in_call, limit, frames);
  return frames;
}

}  // namespace ttdb
