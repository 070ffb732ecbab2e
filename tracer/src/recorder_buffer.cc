// When and how a process gets the syscall buffer: the shim mapped and the
// sites of its own and the loader's code patched at its exec, its
// libraries' at once or once it has made enough calls the buffer would have
// made (docs/architecture.md, "When a process gets it"), and the sites a
// search finds meanwhile.
#include <fmt/format.h>
#include <sys/wait.h>

#include "recorder_state.h"

namespace ttdb {
namespace recording {

void Recorder::after_exec() {
  if (!options_.syscall_buffer) return;
  // The libraries' sites at once too: when asked (--buffer-after 0), for a
  // program that stops at every syscall anyway (under its own seccomp
  // filter, or traced by another), and for one a run of which went on to
  // patch them.
  bool buffered_before = buffered_programs_.count(space().program) || (space().program_hash && cache_.buffers(*space().program_hash));
  bool waits = !(options_.buffer_after == 0 || space().view.own_seccomp || task().traced);
  space().libraries_later = waits && !buffered_before;
  space().libraries_at_exec = waits && buffered_before;
  start_buffering();
}

void Recorder::start_buffering() {
  Tracee& t = tracee();
  const std::string& exe = space().program;
  auto maps = std::exchange(task().exec_maps, std::nullopt);
  if (!maps) maps = read_maps(t.tid());
  std::vector<Mapping> code;  // the program's, its interpreter's, and the libraries mapped so far
  for (const auto& m : *maps)
    if (m.executable && !m.path.empty() && m.path[0] == '/') code.push_back(m);
  space().inject_at = space().vdso_syscall;
  if (!space().inject_at) {
    warn("the program has no vDSO to borrow a syscall instruction from: it is recorded without the syscall buffer");
    return;
  }
  Event shim = shim_event(t.tid(), shim_setup_.base);
  try {
    space().shim = apply_shim(t, space().inject_at, shim, ShimMode::record, shim_setup_.secret, !task().traced);
  } catch (const Error& error) {
    // The seccomp filter, set before the first exec, names this place for
    // the whole recording: there is no other to try. The process's syscalls
    // all stop instead, which records it as well, only slower.
    warn(fmt::format("{}; {} is recorded without the syscall buffer (slower)", error.what(), exe));
    return;
  }
  emit(std::move(shim));
  add_mapping(*maps, space().shim.start(), space().shim.end(), PROT_READ | PROT_WRITE);
  space().inject_at = space().shim.syscall_instruction();
  t.set_shim_door(shim_door());
  if (space().traces_others) trace_waits_in_shim(t, space().shim);
  if (!mapped_shared_.empty()) space().file_writes_show = true;  // (show_file_writes_everywhere)
  if (space().file_writes_show) trace_file_writes_in_shim(t, space().shim);
  name_mappable_files(t, space().shim, mappable_, 0);
  // A traced program's new shim makes no call either: its tracer sees them all.
  if (task().traced) stop_buffering(t, space().shim);
  if (tasks_.size() > 1) trace_outputs();
  // The vDSO's sites and the loader's share one page of trampolines (an
  // injected mmap less at every exec), out of the way below them both.
  std::vector<SyscallSite> loader = vdso_sites();
  std::vector<Mapping> libraries;
  for (const auto& m : code) {
    if (m.path == exe) {
      if (auto sites = known_sites(m.start, m.end - m.start, m.offset, fmt::format("/proc/{}/exe", t.tid())))
        patch_sites(*sites, false, &*maps);
      continue;
    }
    if (m.path != space().loader_path) {
      libraries.push_back(m);
      continue;
    }
    space().loader_start = m.start;
    space().loader_end = m.end;
    auto sites = known_sites(m.start, m.end - m.start, m.offset, m.path);
    if (!sites) continue;
    bool near = loader.empty() || sites->empty() ||
                std::max(loader.back().addr, sites->back().addr) - std::min(loader.front().addr, sites->front().addr) < kNearby;
    if (!near) patch_sites(*sites, true, &*maps);
    else loader.insert(loader.end(), sites->begin(), sites->end());
  }
  std::sort(loader.begin(), loader.end(), [](const SyscallSite& x, const SyscallSite& y) { return x.addr < y.addr; });
  patch_sites(loader, true, &*maps);
  // As each would have been at its mmap.
  for (const auto& m : libraries) find_sites(m.start, m.end - m.start, m.offset, m.path);
  read_clocks_in_vdso();
  if (space().rand.patches_tsc()) serve_tsc_in_shim(t, space().shim, true);
}

void Recorder::patch_libraries() {
  space().libraries_later = false;
  // What the program has mapped as code since its exec, but its own and
  // the loader's (patched then): each as it would have been at its mmap.
  for (const auto& m : read_maps(tracee().tid()))
    if (m.executable && !m.path.empty() && m.path[0] == '/' && m.path != space().program && !space().in_loader(m.start))
      find_sites(m.start, m.end - m.start, m.offset, m.path);
}

bool Recorder::may_patch_libraries() {
  Space& s = space();
  if (!s.libraries_later || !s.shim || s.threaded || s.view.own_seccomp || task().traced) return false;
  // Not while a vfork child runs in its memory.
  for (const auto& [tid, other] : tasks_)
    if (other.get() != task_ && other->space.get() == &s) return false;
  return true;
}

bool Recorder::counts_to_libraries() {
  return space().libraries_later && ++space().bufferable_traced >= options_.buffer_after && may_patch_libraries();
}

bool Recorder::libraries_due(long nr, const std::uint64_t* args) {
  if (!space().libraries_later) return false;
  const SyscallInfo* si = find_syscall(nr);
  if (si && (si->policy == ReplayPolicy::execve || si->policy == ReplayPolicy::exit)) return false;
  // Its last chance: a thread, or another process sharing its memory, would
  // stand in code a patch rewrites; and its own filter stops every call.
  bool last_chance = false;
  if (si && si->policy == ReplayPolicy::spawn) {
    SyscallArgs call;
    call.nr = nr;
    std::copy(args, args + 6, call.a);
    std::uint64_t flags = spawn_args(tracee(), call).value_or(SpawnArgs{}).flags;
    last_chance = (flags & CLONE_VM) && !(flags & CLONE_VFORK);
  }
  if ((nr == __NR_seccomp && args[0] == SECCOMP_SET_MODE_FILTER) || (nr == __NR_prctl && args[0] == PR_SET_SECCOMP))
    last_chance = true;
  if (last_chance) return may_patch_libraries();
  if (!si || si->buffering == Buffering::none) return false;
  // Not a wait that may block, which the buffer never makes, nor a
  // tracer's, which ttdb answers: a tracer stepping its tracee made 48
  // blocking waits, and replay diverged where its libraries were patched
  // at one of them.
  if (si->buffering == Buffering::nohang && (!(args[2] & WNOHANG) || space().traces_others)) return false;
  return counts_to_libraries();
}

void Recorder::note_buffered_program() {
  buffered_programs_.insert(space().program);
  if (space().program_hash) cache_.note_buffers(*space().program_hash);
}

void Recorder::forget_buffered_program_if_short(const Task& leaving) {
  // Judged when its last task leaves it (a vfork child's space is its
  // parent's, which goes on).
  if (!leaving.space || leaving.space.use_count() != 1) return;
  const Space& ended = *leaving.space;
  // What the loader and libc's start make before a program's own calls
  // (/bin/true makes 29 in all). Patching the libraries costs about what
  // buffer_after traced calls would: a run with at least half that many
  // of its own paid at most twice the better choice, and keeps it (a
  // make recipe's `sh -c`, 78 calls, does).
  constexpr std::uint64_t kStartCalls = 32;
  if (!ended.libraries_at_exec || ended.threaded || ended.calls >= kStartCalls + options_.buffer_after / 2) return;
  buffered_programs_.erase(ended.program);
  if (ended.program_hash) cache_.forget_buffers(*ended.program_hash);
  TTDB_LOG(record, "{} made {} calls: its next runs get its libraries' sites patched later", ended.program, ended.calls);
}

void Recorder::patch_libraries_at_entry() {
  Tracee& t = tracee();
  Registers entry = t.regs();
  skip_entered_syscall(t);
  patch_libraries();
  note_buffered_program();
  TTDB_LOG(record, "libraries' syscall sites patched in {} at its call to {}", t.tid(), syscall_name(static_cast<long>(entry.orig_rax)));
  // Back at its syscall instruction (a jump into a trampoline now, if
  // the site was patched), with the registers it made the call with.
  entry.rip -= 2;
  entry.rax = entry.orig_rax;
  entry.orig_rax = ~0ull;
  t.set_regs(entry);
  task().expect_exit_stop = false;
}

void Recorder::patch_libraries_at_tsc(std::uint64_t site) {
  // The int3's SIGTRAP went through (put_back_trap); the program reads the
  // counter again, through the site's trampoline if it has one now.
  put_back_trap();
  patch_libraries();
  note_buffered_program();
  TTDB_LOG(record, "libraries' syscall sites patched in {} at its rdtsc at {:#x}", tracee().tid(), site);
  Registers regs = tracee().regs();
  regs.rip = site;
  tracee().set_regs(regs);
}

std::vector<SyscallSite> Recorder::vdso_sites() const {
  std::vector<SyscallSite> sites;
  for (std::uint64_t addr : space().vdso_sites) {
    DisplacedInsn cmp;
    cmp.op = DisplacedInsn::Op::cmp;
    cmp.imm = -4095;
    SyscallSite site;
    site.addr = addr;
    site.length = 8;
    site.after = {cmp};
    sites.push_back(std::move(site));
  }
  return sites;
}

void Recorder::patch_sites(const std::vector<SyscallSite>& sites, bool out_of_the_way, std::vector<Mapping>* maps) {
  // rdtsc sites go to the shim only where rdtsc does not fault (they would
  // all take their slow tails), as their int3s do.
  std::uint64_t tsc = space().rand.patches_tsc() ? space().shim.tsc_entry() : 0;
  SyscallPatcher::Entries entries{space().shim.entry(), space().shim.call_entry(), tsc, &space().vdso_sites};
  if (auto patch = space().sites.patch_sites(tracee(), space().inject_at, entries, sites, out_of_the_way, maps)) {
    // A page in the area changes nothing the shim knows of ttdb's pages.
    bool new_pages = patch->args[4] != kInArea;
    forget_rand_sites_patched(*patch);
    emit(std::move(*patch));
    if (new_pages) tell_shim_trampolines(tracee(), space().shim, space().sites.trampoline_pages());
  }
}

void Recorder::forget_rand_sites_patched(const Event& patch) {
  // Their int3s are gone under the jumps: SIGTRAP there is no longer ttdb's.
  for (std::uint64_t site : tsc_sites_in(patch)) space().rand.forget(site, site + 1);
}

std::optional<std::vector<SyscallSite>> Recorder::known_sites(std::uint64_t start, std::uint64_t size, std::uint64_t offset,
                                                              const std::string& file) {
  // The file catalog hashed this file version when the program mapped it: a
  // shell that runs 200 programs reads and hashes libc once, not 200 times.
  std::optional<ContentHash> hash;
  if (auto cataloged = files_.find(file)) hash = cataloged->hash;
  if (hash)
    if (auto known = cache_.load(*hash, offset, size, start)) return known;
  // Read now: the file may change once the program goes on.
  auto bytes = read_whole_file(file);
  if (!bytes) return std::nullopt;
  if (!hash) {
    hash = content_hash(*bytes);
    if (auto known = cache_.load(*hash, offset, size, start)) return known;
  }
  finder_->find(tracee().tid(), std::move(*bytes), *hash, start, size, offset);
  return std::nullopt;
}

void Recorder::find_sites(std::uint64_t start, std::uint64_t size, std::uint64_t offset, const std::string& file) {
  if (space().libraries_later) return;  // (patch_libraries finds it then)
  // Sites the cache knows are patched at once.
  if (auto sites = known_sites(start, size, offset, file)) patch_sites(*sites, space().in_loader(start));
}

void Recorder::patch_found_sites() {
  auto found = finder_->take_found(tracee().tid());
  // Another thread may stand in the bytes a patch rewrites, or come back
  // into them from the kernel, and its code would go astray: a process with
  // threads keeps the code it has as it is, and its syscalls there stop. A
  // module mapped later is patched when it is mapped, before any thread
  // runs in it. (While the libraries wait, only the program's own code and
  // the loader's are searched: find_sites asks for no other.)
  if (space().threaded) return;
  for (auto& module : found) patch_sites(module.sites, space().in_loader(module.start));
}

}  // namespace recording
}  // namespace ttdb
