// rdtsc while recording (docs/architecture.md, "Clock reads"). A program's
// clock functions read the time stamp counter in its vDSO: trapping rdtsc
// everywhere (PR_SET_TSC) made every clock read a syscall. Instead, rdtsc
// runs natively in a process whose code ttdb has scanned: each rdtsc and
// rdtscp of its code gets an int3 (RandPatcher, as rdrand does), the
// syscall buffer calls the vDSO's clock functions and records what they
// return, and the process traps rdtsc again for good as soon as it could
// have code that no scan saw: memory writable and executable at once,
// code it wrote itself made executable, executable memory another mapping
// may write, or a write through /proc/PID/mem (recorder_file_writes.cc).
#include <linux/mman.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>

#include <algorithm>
#include <fstream>

#include "recorder_state.h"
#include "ttdb/tracer/inject.h"

namespace ttdb::recording {
namespace {

constexpr std::uint64_t kPageSize = 4096;

// The vDSO reads the clock without a syscall only while the kernel's clock
// source is the time stamp counter (a VM's own one may not be): otherwise
// its functions make the syscall themselves, inside the shim's call.
bool clock_source_is_tsc() {
  static const bool tsc = [] {
    std::ifstream source("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    std::string name;
    return source >> name && name == "tsc";
  }();
  return tsc;
}

// Why code made executable in [start, start + size) may hold what no scan
// finds, or nullptr. A scan finds instructions by disassembling from points
// before them, which holds for a compiler's code in a file; code a program
// wrote itself (anonymous memory) may be laid out any way, and shared
// memory may change through another mapping.
const char* unscannable_code(pid_t tid, std::uint64_t start, std::uint64_t size) {
  for (const auto& m : read_maps(tid)) {
    if (m.end <= start || start + size <= m.start) continue;
    if (m.shared) return "shared memory made executable";
    if (m.path.empty() || m.path[0] != '/') return "memory the program wrote made executable";
    if (m.writable) return "a file's memory made writable, then executable";
  }
  return nullptr;
}

}  // namespace

bool Recorder::reads_tsc_untrapped() { return !task().tsc_trapped && !task().tsc_owed; }

void Recorder::read_clocks_in_vdso() {
  // (after_exec, once the shim is in.)
  if (!space().rand.patches_tsc() || !space().shim || space().vdso_clocks.empty() || !clock_source_is_tsc()) return;
  ttdb::read_clocks_in_vdso(tracee(), space().shim, space().vdso_clocks);
  space().clocks_in_vdso = true;
}

void Recorder::watch_code_writes(const SyscallArgs& call) {
  if (!space().rand.patches_tsc()) return;
  auto prot = call.a[2];
  switch (call.nr) {
    case __NR_prctl:
      // The program asks for rdtsc to fault itself (keep_ttdb_settings
      // makes every PR_SET_TSC trap).
      if (call.a[0] == PR_SET_TSC) trap_tsc_again(task(), "the program sets PR_SET_TSC");
      break;
    case __NR_mmap:
      if (!(prot & PROT_EXEC)) break;
      if (prot & PROT_WRITE) trap_tsc_again(task(), "memory writable and executable");
      else if ((call.a[3] & MAP_TYPE) != MAP_PRIVATE) trap_tsc_again(task(), "executable memory mapped shared");
      else if (!(call.a[3] & MAP_ANONYMOUS) &&
               read_link(fmt::format("/proc/{}/fd/{}", tracee().tid(), static_cast<int>(call.a[4]))).starts_with("/memfd:"))
        trap_tsc_again(task(), "executable memory mapped from a memfd");
      break;
    case __NR_mprotect:
    case __NR_pkey_mprotect:
      if (!(prot & PROT_EXEC)) break;
      if (prot & PROT_WRITE) trap_tsc_again(task(), "memory made writable and executable");
      else if (const char* why = unscannable_code(tracee().tid(), call.a[0], call.a[1])) trap_tsc_again(task(), why);
      break;
    case __NR_shmat:
      if (call.a[2] & SHM_EXEC) trap_tsc_again(task(), "a shared memory segment attached executable");
      break;
    default: break;
  }
}

void Recorder::trap_tsc_again(Task& in, const char* why) {
  Space& space = *in.space;
  if (!space.rand.patches_tsc()) return;
  TTDB_LOG(record, "rdtsc faults again in {} from event {}: {}", in.tracee.tid(), writer_.last_event_id() + 1, why);
  // No scan sees what it runs from now on. The int3s already there stay
  // (they record as well as the fault does).
  space.rand.patch_tsc(false);
  // The rdtsc sites' trampolines take their slow tails, whose rdtsc faults.
  if (space.shim) serve_tsc_in_shim(in.tracee, space.shim, false);
  if (space.clocks_in_vdso) {
    ttdb::read_clocks_in_vdso(in.tracee, space.shim, {});
    space.clocks_in_vdso = false;
  }
  // Each thread traps before it runs its code again: the others wait for
  // their turn or are in the kernel, this one is at a syscall's entry.
  for (auto& [tid, t] : tasks_)
    if (t->space.get() == &space && !t->tsc_trapped) t->tsc_owed = true;
}

void Recorder::pay_tsc_owed(Task& t) {
  // Where the thread may run a syscall of ttdb's: not inside one of its
  // own (it goes into the kernel, or comes out at the exit stop), and not
  // with a signal to take, which the injected call would lose. A thread
  // another recorded process traces waits for that tracer's orders.
  if (!t.tsc_owed || !t.may_inject || t.entering || t.expect_exit_stop || t.resume_signal || t.job_stopped ||
      t.fresh || t.traced || ending_or_killed(t.tracee.tid()))
    return;
  std::int64_t done = inject_syscall(t.tracee, t.space->inject_at, __NR_prctl, {PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0, 0});
  if (done != 0)
    throw InternalError(fmt::format("cannot make rdtsc fault again in program {}: {}", t.tracee.tid(),
                                    errno_text(static_cast<int>(-done))));
  t.tsc_owed = false;
  t.tsc_trapped = true;
}

void Recorder::rescan_for_tsc(Task& t, std::uint64_t addr, std::uint64_t size) {
  if (!t.space || !t.space->rand.patches_tsc()) return;
  auto mapping = mapping_containing(read_maps(t.tracee.tid()), addr);
  if (!mapping || !mapping->executable) return;
  // The pages around the write, so that the scan's disassembly finds its way
  // to the instructions the write touched.
  std::uint64_t start = std::max(mapping->start, (addr & ~(kPageSize - 1)) - kPageSize);
  std::uint64_t end = std::min(mapping->end, ((addr + size + kPageSize - 1) & ~(kPageSize - 1)) + kPageSize);
  if (auto code = t.tracee.try_read_bytes(RemotePtr(start), end - start)) t.space->rand.scan_and_patch(t.tracee, start, *code);
}

bool Recorder::vdso_clock_made_syscall(std::uint64_t ip) {
  // The stubs' own syscalls come from the vDSO too, before their sites
  // are patched, and take the traced path.
  std::uint64_t insn = ip - 2;
  if (!space().clocks_in_vdso || insn < space().vdso_start || insn >= space().vdso_end) return false;
  if (std::find(space().vdso_sites.begin(), space().vdso_sites.end(), insn) != space().vdso_sites.end()) return false;
  stop_recording(fmt::format("the vDSO made a syscall inside a clock read at event {} (the kernel's clock source is no "
                             "longer the TSC); record the program again with --trap-rdtsc",
                             writer_.last_event_id() + 1));
  return true;
}

bool Recorder::on_tsc_site(RandSite site) {
  Tracee& t = tracee();
  if (space().view.tsc_mode == PR_TSC_SIGSEGV) {
    // The program made rdtsc fault itself: it takes the fault, which the
    // instruction, put back, makes.
    space().rand.unpatch_tsc(t);
    Registers regs = t.regs();
    regs.rip = site.addr;
    t.set_regs(regs);
    pay_tsc_owed(task());
    return true;
  }
  record_tsc(site.tsc_insn(), site.addr);
  return true;
}

void Recorder::record_tsc(const TscInsn& insn, std::uint64_t at) {
  TscValue value = host_tsc(insn);
  emulate_tsc(tracee(), insn, at, value);
  Event e;
  e.kind = EventKind::rdtsc;
  e.tid = tracee().tid();
  e.nr = insn.rdtscp ? 1 : 0;
  e.args = {at, value.tsc, value.aux, 0, 0, 0};
  emit(std::move(e));
}

}  // namespace ttdb::recording
