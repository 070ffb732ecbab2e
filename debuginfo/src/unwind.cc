#include "unwind.h"

#include <elfutils/libdw.h>
#include <sys/uio.h>

#include <array>

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

}  // namespace

std::vector<Frame> unwind(Dwfl* dwfl, bool& attached, pid_t pid, const user_regs_struct& regs, std::size_t limit) {
  std::vector<Frame> frames;
  Frame innermost;
  innermost.pc = regs.rip;
  innermost.regs = dwarf_registers(regs);
  innermost.known.fill(true);
  frames.push_back(innermost);

  static Target target;  // libdw keeps the callbacks' argument for the Dwfl's life
  target.pid = pid;
  target.regs = &regs;
  if (!attached) attached = dwfl_attach_state(dwfl, nullptr, kThread, &kCallbacks, &target);
  if (!attached) return frames;

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
    if (!w.seen_innermost) {  // frame 0: its registers are known exactly already
      w.seen_innermost = true;
      return DWARF_CB_OK;
    }
    Frame f;
    f.level = static_cast<int>(w.frames->size());
    f.pc = pc;
    f.regs[16] = pc;
    f.known[16] = true;
    for (unsigned r = 0; r < 16; ++r) {
      Dwarf_Word value = 0;
      if (dwfl_frame_reg(state, r, &value) == 0) {
        f.regs[r] = value;
        f.known[r] = true;
      }
    }
    if (!f.known[7] || pc == 0) return DWARF_CB_ABORT;
    if (f.regs[7] <= w.frames->back().regs[7] && w.frames->size() > 1) return DWARF_CB_ABORT;  // not going up
    w.frames->back().cfa = f.regs[7];  // a frame's CFA is its caller's stack pointer
    w.frames->push_back(f);
    return DWARF_CB_OK;
  };
  dwfl_getthread_frames(dwfl, kThread, on_frame, &walk);
  return frames;
}

}  // namespace ttdb
