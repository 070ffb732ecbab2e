// Replaying one recorded syscall: check that the program makes the same call
// with the same inputs, then emulate it (skip it and inject the recorded
// result and memory) or execute it (it shapes the address space or the
// signal state) and check its result, as syscalls.def says.
#include <asm/unistd_64.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <unistd.h>

#include "session.h"
#include "ttdb/tracer/inject.h"
#include "ttdb/tracer/proc_maps.h"
#include "ttdb/tracer/syscall_buffer.h"
#include "ttdb/tracer/syscall_memory.h"
#include "ttdb/base/log.h"
#include "ttdb/tracer/render.h"

namespace ttdb {

using trace::Event;
using trace::EventKind;

namespace {


constexpr std::int64_t kRestartBlock = 516;  // ERESTART_RESTARTBLOCK: the kernel's own, not in the uapi headers

}  // namespace

void release_robust_futexes(Tracee& thread, pid_t recorded_tid) {
  void* head_ptr = nullptr;
  std::size_t len = 0;
  if (::syscall(__NR_get_robust_list, thread.tid(), &head_ptr, &len) != 0 || !head_ptr) return;
  struct Head {
    std::uint64_t next;
    std::int64_t futex_offset;
    std::uint64_t pending;
  };
  auto head_addr = reinterpret_cast<std::uintptr_t>(head_ptr);
  Head head;
  if (thread.read_some(RemotePtr(head_addr), &head, sizeof head) != sizeof head) return;
  auto release = [&](std::uint64_t entry) {
    RemotePtr word(static_cast<std::uint64_t>(static_cast<std::int64_t>(entry & ~1ull) + head.futex_offset));
    std::uint32_t value = 0;
    if (thread.read_some(word, &value, sizeof value) != sizeof value) return;
    if ((value & FUTEX_TID_MASK) != static_cast<std::uint32_t>(recorded_tid)) return;
    TTDB_LOG(replay, "robust futex {:#x} of {}: its owner died", word.addr(), recorded_tid);
    thread.write_value(word, static_cast<std::uint32_t>((value & FUTEX_WAITERS) | FUTEX_OWNER_DIED));
  };
  // As the kernel, a bounded walk: the list is the program's, and may be broken.
  std::uint64_t entry = head.next;
  for (int i = 0; entry != head_addr && entry && i < ROBUST_LIST_LIMIT; ++i) {
    std::uint64_t next = 0;
    if (thread.read_some(RemotePtr(entry & ~1ull), &next, sizeof next) != sizeof next) break;
    if (entry != head.pending) release(entry);
    entry = next;
  }
  if (head.pending) release(head.pending);
}

void ReplaySession::check_entry(const Event& e, const WaitStatus& status) {
  Tracee& t = tracee();
  if (!status.is_syscall_stop()) diverge(e, describe_stop(status));
  auto info = t.syscall_info();
  if (info.op != PTRACE_SYSCALL_INFO_ENTRY || static_cast<std::int64_t>(info.entry.nr) != e.nr)
    diverge(e, describe_stop(status));
  const SyscallInfo* si = find_syscall(e.nr);
  std::size_t compared = si ? si->args.size() : 0;
  for (std::size_t i = 0; i < compared; ++i)
    if (info.entry.args[i] != e.args[i]) diverge(e, describe_stop(status));
}

void ReplaySession::check_inputs(const Event& e, const SyscallInfo* si) {
  Tracee& t = tracee();
  SyscallArgs call;
  call.nr = static_cast<long>(e.nr);
  std::copy(e.args.begin(), e.args.end(), call.a);
  if (si) {
    std::optional<std::string> first, second;
    for (std::size_t i = 0; i < si->args.size(); ++i)
      if (si->args[i].format == ArgFormat::s)
        (first ? second : first) = t.read_c_string(RemotePtr(e.args[i])).value_or("");
    if (first != e.path || second != e.path2) {
      Event seen = e;
      seen.path = first;
      seen.path2 = second;
      diverge(e, "made " + render_call(seen));
    }
  }
  // Output moved from a file (sendfile, copy_file_range, splice, vmsplice): its bytes are in the event.
  if (e.emit && !e.info.empty() && !e.digest) emit_output(e, ByteView(e.info.data(), e.info.size()));
  if (!e.digest) return;
  Bytes input = gather_input(t, si, call);
  // The syscall buffer digests what the call consumed.
  if (e.buffered) input.resize(buffered_input_size(input.size(), e.ret.value_or(0)));
  if (digest64(input) != *e.digest)
    diverge(e, fmt::format("passed different bytes: {}", escape_bytes(input, 64)));
  if (e.emit && e.ret && *e.ret > 0) {
    auto count = std::min<std::size_t>(input.size(), static_cast<std::size_t>(*e.ret));
    emit_output(e, ByteView(input.data(), count));
  }
}

ByteView ReplaySession::written_bytes(const Event& e, const trace::MemWrite& m, Bytes& owned) {
  if (!m.file) {
    owned = reader_.mem_bytes(m);
    return owned;
  }
  const Bytes& content = files_.content(*m.file);
  if (m.file_offset + m.size > content.size())
    fail("trace {} is corrupt: event {} maps past the end of file {}", reader_.path(), e.id, *m.file);
  return ByteView(content.data() + m.file_offset, m.size);
}

void ReplaySession::write_memory(const Event& e) {
  Tracee& t = tracee();
  for (const auto& m : e.mem) {
    Bytes owned;
    ByteView bytes = written_bytes(e, m, owned);
    // A shared mapping the program may only read takes the bytes through
    // the file it maps (a write() to that file, seen through it).
    if (!t.write_data(RemotePtr(m.addr), bytes) && !shared_files_.write_mapped(t.tid(), m.addr, bytes))
      diverge(e, fmt::format("has no memory at {:#x} for the {} bytes the kernel wrote there", m.addr, m.size));
  }
}

WaitStatus ReplaySession::expect_syscall_exit(const Event& e) {
  WaitStatus status = resume_and_wait();
  if (!status.is_syscall_stop() || tracee().syscall_info().op != PTRACE_SYSCALL_INFO_EXIT)
    diverge(e, describe_stop(status));
  return status;
}

// Gives the program the recorded result, with the registers it had at entry
// (compiled code may keep values in the argument registers across a syscall).
// A buffered call's record may hold only the arguments the call has (a
// clock read's: shim_abi.h), the others 0: those registers stay as they
// were at this entry.
void ReplaySession::finish_syscall_exit(const Event& e, const Registers& entry_regs, const Registers* at_exit) {
  Tracee& t = tracee();
  Registers regs = at_exit ? *at_exit : t.regs();
  std::array<std::uint64_t, 6> args = e.args;
  if (e.buffered) {
    const SyscallInfo* si = find_syscall(e.nr);
    auto at_entry = syscall_args(entry_regs);
    for (std::size_t i = si ? si->args.size() : 0; i < args.size(); ++i) args[i] = at_entry[i];
  }
  set_syscall_args(regs, args.data());
  regs.rax = static_cast<unsigned long long>(e.ret.value_or(0));
  // The original number keeps the kernel's restart logic (ERESTARTSYS...) as it was.
  regs.orig_rax = static_cast<unsigned long long>(e.nr);
  regs.rip = entry_regs.rip;
  t.set_regs(regs);
  write_memory(e);
}

void ReplaySession::emulate(const Event& e, const Registers& entry_regs) {
  if (tracee().at_sysemu_entry()) {
    // The kernel skips it already (run() resumed with PTRACE_SYSEMU): the
    // result goes in at the entry, one stop for the call.
    finish_syscall_exit(e, entry_regs, &entry_regs);
    tracee().mark_sysemu_done();
  } else {
    Registers skip = entry_regs;
    skip.orig_rax = static_cast<unsigned long long>(-1);  // the kernel skips it
    tracee().set_regs(skip);
    expect_syscall_exit(e);
    // A skipped call leaves the registers as they were set (rax aside, which
    // the result replaces): no need to read them again.
    finish_syscall_exit(e, entry_regs, &skip);
  }
  std::int64_t ret = e.ret.value_or(0);
  const Event* next = events_.peek();
  if (is_restart_result(ret) && !(next && next->kind == EventKind::signal && next->tid == e.tid)) {
    // A signal woke the call, but another thread took it: the kernel went
    // back to the syscall instruction by itself, and the call's next event
    // is its new entry. A signal of its own would have come right after.
    Registers again = tracee().regs();
    again.rip -= 2;
    again.rax = ret == -kRestartBlock ? __NR_restart_syscall : static_cast<unsigned long long>(e.nr);
    tracee().set_regs(again);
  }
}

void ReplaySession::wait_in_sigsuspend(const Event& e, const Registers& entry_regs, std::uint64_t mask) {
  // The recorded signal arrived while this call waited under its own signal
  // mask. Wait in rt_sigsuspend under that mask, with the signal already sent.
  const Event* signal = next_event();
  send_signal(static_cast<int>(signal->nr));
  task().signal_sent_for = signal->id;
  Registers wait = entry_regs;
  wait.orig_rax = __NR_rt_sigsuspend;
  wait.rdi = mask;
  wait.rsi = 8;
  tracee().set_regs(wait);
  expect_syscall_exit(e);
  finish_syscall_exit(e, entry_regs);
}

std::optional<std::uint64_t> ReplaySession::wait_mask(const Event& e, const SyscallInfo* si) {
  if (!si) return std::nullopt;
  // Only a signal this thread received: another process's, next in the
  // trace, was sent to this one (make -j2's jobserver pselect6, then its
  // shell's SIGCHLD), which then had one the recording never gave it.
  const Event* next = next_event();
  if (!next || next->kind != EventKind::signal || next->tid != e.tid ||
      next->args[0] != static_cast<std::uint64_t>(trace::SignalDelivery::at_boundary))
    return std::nullopt;
  for (std::size_t i = 0; i < si->args.size(); ++i) {
    if (si->args[i].format == ArgFormat::sigmask && e.args[i]) return e.args[i];
    if (si->args[i].format == ArgFormat::sigmask_pair && e.args[i]) {
      auto pair = tracee().try_read_bytes(RemotePtr(e.args[i]), 8);
      std::uint64_t mask = 0;
      if (pair) std::memcpy(&mask, pair->data(), 8);
      if (mask) return mask;
    }
  }
  return std::nullopt;
}

std::int64_t ReplaySession::execute(const Event& e) {
  expect_syscall_exit(e);
  return tracee().syscall_info().exit.rval;
}

void ReplaySession::replay_mmap(const Event& e, const Registers& entry_regs) {
  Tracee& t = tracee();
  if (!e.ret || is_error_result(*e.ret)) return emulate(e, entry_regs);
  std::uint64_t flags = e.args[3];
  if (flags & MAP_FIXED) forget_code(e.args[0], e.args[0] + e.args[1]);
  // A file mapped shared (here or in another process, before): from
  // replay's copy of it, which a private mapping shows too until written.
  if (auto file = trace::FileIdentity::from_info(e.info);
      file && !(flags & MAP_ANONYMOUS) && ((flags & MAP_TYPE) != MAP_PRIVATE || shared_files_.has(*file)))
    return map_shared_file(e, entry_regs, *file);
  if (!(flags & MAP_ANONYMOUS) && map_recorded_file(e, entry_regs)) return;
  if (!(flags & MAP_ANONYMOUS)) {
    // The file may be gone or changed, and the fd exists only in the
    // recording: map anonymous memory at the recorded place and fill it.
    Registers anon = entry_regs;
    anon.rdi = static_cast<std::uint64_t>(*e.ret);
    // Shared and writable stays shared, with the processes it forks (ttdb
    // could not fill a read-only shared mapping). No reservation: a huge
    // sparse file's mapping is mostly never touched.
    bool shared = (flags & MAP_TYPE) != MAP_PRIVATE && (e.args[2] & PROT_WRITE);
    anon.r10 = (flags & ~std::uint64_t{MAP_TYPE | MAP_FIXED_NOREPLACE}) | (shared ? MAP_SHARED : MAP_PRIVATE) |
               MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE;
    anon.r8 = static_cast<std::uint64_t>(-1);
    anon.r9 = 0;
    t.set_regs(anon);
  }
  expect_syscall_exit(e);
  std::int64_t ret = t.syscall_info().exit.rval;
  if (ret != *e.ret) diverge(e, fmt::format("got {:#x} from mmap", static_cast<std::uint64_t>(ret)));
  finish_syscall_exit(e, entry_regs);
  if ((e.args[2] & PROT_EXEC) && !e.mem.empty())
    if (auto code = t.try_read_bytes(RemotePtr(e.mem[0].addr), e.mem[0].size))
      rand().scan_and_patch(t, e.mem[0].addr, *code);
}

void ReplaySession::forget_code(std::uint64_t start, std::uint64_t end) {
  rand().forget(start, end);
  task().sites.forget(start, end);
}

void ReplaySession::watch_code_changes(const Event& e) {
  // Memory writable and executable at once, or executable with another
  // view to write it through, or made executable after it was written (a
  // superset of the recorder's triggers, which read the mappings).
  if (!e.ret || is_error_result(*e.ret)) return;
  std::uint64_t prot = 0;
  bool shared = false;
  switch (e.nr) {
    case __NR_mmap:
      prot = e.args[2];
      shared = (e.args[3] & MAP_TYPE) != MAP_PRIVATE;
      if (!(prot & PROT_WRITE) && !shared) return;  // scanned as it comes (replay_mmap)
      break;
    case __NR_mprotect:
    case __NR_pkey_mprotect: prot = e.args[2]; break;
    case __NR_shmat: prot = (e.args[2] & SHM_EXEC) ? PROT_EXEC : 0; break;
    default: return;
  }
  if (prot & PROT_EXEC) trap_tsc_for_good(e);
}

bool ReplaySession::map_recorded_file(const Event& e, const Registers& entry_regs) {
  // A private mapping of a file maps the file as recorded (from disk when
  // it is there unchanged, else a copy), not anonymous memory filled with
  // its bytes: the page cache shares its pages (filling libc in every
  // process a shell starts cost more than the rest of their replay), and
  // past the file's end the program gets SIGBUS, as it did.
  // (replay_mmap sent mappings of no file, and those of files mapped shared
  // anywhere, elsewhere.)
  if ((e.args[3] & MAP_TYPE) != MAP_PRIVATE || e.mem.size() != 1 || !e.mem[0].file) return false;
  const trace::MemWrite& m = e.mem[0];
  if (m.addr != static_cast<std::uint64_t>(*e.ret) || m.file_offset != e.args[5]) return false;
  std::int64_t fd = mapping_descriptor(e, *m.file);
  if (fd < 0) return false;
  std::int64_t ret = mmap_descriptor(e, fd, SharedView{e.args[1], e.args[2], e.args[3], e.args[5]});
  if (ret != *e.ret)
    diverge(e, fmt::format("got {:#x} from mmap of {}", static_cast<std::uint64_t>(ret), files_.mappable_path(*m.file)));
  Event mapped = e;
  mapped.mem.clear();
  finish_syscall_exit(mapped, entry_regs);
  if (e.args[2] & PROT_EXEC) rand().scan_and_patch_file(tracee(), m.addr, m.size, files_.hash(*m.file), m.file_offset);
  return true;
}

std::int64_t ReplaySession::mapping_descriptor(const Event& e, std::int64_t file) {
  // A process maps the same few files again and again (the loader maps a
  // library in three or four calls, a fork maps what its parent did, and a
  // program it execs maps libc again): the descriptor stays open in it, and
  // across its execs, which saves an open and a close, four stops, each time.
  // (Eight were too few: every program that calls setlocale maps a dozen
  // locale files, and a make of shell recipes replayed 650 opens and 600
  // closes for them.)
  constexpr std::size_t kKept = 64;
  auto& kept = state_.process_of(state_.acting).mapping_fds;
  auto found = kept_descriptor(file);
  if (found != kept.end()) {
    std::rotate(found, found + 1, kept.end());
    return kept.back().second;
  }
  if (kept.size() == kKept) {
    call_before_entry(e, __NR_close, {static_cast<std::uint64_t>(kept.front().second)});
    kept.erase(kept.begin());
  }
  std::int64_t fd = open_before_entry(e, files_.mappable_path(file), O_RDONLY, /*cloexec=*/false);
  if (fd >= 0) kept.emplace_back(file, fd);
  return fd;
}

std::vector<std::pair<std::int64_t, std::int64_t>>::iterator ReplaySession::kept_descriptor(std::int64_t file) {
  auto& kept = state_.process_of(state_.acting).mapping_fds;
  return std::find_if(kept.begin(), kept.end(), [&](const auto& entry) { return entry.first == file; });
}

std::int64_t ReplaySession::mmap_descriptor(const Event& e, std::int64_t fd, const SharedView& view) {
  // The program's mmap, stopped at its entry, maps `fd` as `view` says at the recorded place.
  Tracee& t = tracee();
  Registers call = t.regs();
  call.orig_rax = __NR_mmap;
  call.rdi = static_cast<std::uint64_t>(*e.ret);
  call.rsi = view.length;
  call.rdx = view.prot;
  call.r10 = (view.flags & ~std::uint64_t{MAP_FIXED_NOREPLACE}) | MAP_FIXED;
  call.r8 = static_cast<std::uint64_t>(fd);
  call.r9 = view.offset;
  t.set_regs(call);
  expect_syscall_exit(e);
  return t.syscall_info().exit.rval;
}

void ReplaySession::map_shared_file(const Event& e, const Registers& entry_regs, const trace::FileIdentity& file) {
  map_shared_view(e, entry_regs, file, SharedView{e.args[1], e.args[2], e.args[3], e.args[5]});
}

void ReplaySession::map_shared_view(const Event& e, const Registers& entry_regs, const trace::FileIdentity& file,
                                    const SharedView& view) {
  auto addr = static_cast<std::uint64_t>(*e.ret);
  std::uint64_t length = view.length, offset = view.offset;
  // The copy holds what the file held at this mmap (any mapping of it
  // already shows the same), and ends where the file ended, if that is
  // inside the mapping (past it, the program gets SIGBUS, as it did).
  std::uint64_t shown = 0;
  for (const auto& m : e.mem) {
    if (m.file) {
      // The whole file as it was: the mapping may grow over more of it later (mremap).
      const Bytes& content = files_.content(*m.file);
      shared_files_.resize(file, content.size());
      shared_files_.write(file, 0, content);
      shown = std::max(shown, content.size() > offset ? content.size() - offset : 0);
      continue;
    }
    Bytes owned;
    shared_files_.write(file, offset + (m.addr - addr), written_bytes(e, m, owned));
    shown = std::max(shown, m.addr - addr + m.size);
  }
  if (shown < length) shared_files_.resize(file, offset + shown);
  else if (shared_files_.size(file) < offset + length) shared_files_.resize(file, offset + length);

  int access = trace::FileIdentity::never_writable(e.info) ? O_RDONLY : O_RDWR;
  std::string path = shared_files_.path(file);
  std::int64_t fd = open_before_entry(e, path, access);
  if (fd < 0) fail("cannot open replay's copy of a file the program mapped shared ({}): {}", path, errno_text(static_cast<int>(-fd)));
  std::int64_t ret = mmap_descriptor(e, fd, view);
  inject_syscall(tracee(), task().syscall_insn, __NR_close, {static_cast<std::uint64_t>(fd)});
  if (ret != *e.ret) diverge(e, fmt::format("got {:#x} from mmap of replay's copy of the file", static_cast<std::uint64_t>(ret)));
  // Its bytes are in the copy already.
  Event mapped = e;
  mapped.mem.clear();
  finish_syscall_exit(mapped, entry_regs);
}

void ReplaySession::replay_shm(const Event& e, const Registers& entry_regs) {
  // The segment exists only in the recording: shared anonymous memory takes
  // its place (shared with the processes forked from here, as it was), and
  // another attachment of it in the process maps the same pages (mremap
  // from an old size of 0 does that for shared memory).
  Tracee& t = tracee();
  if (!e.ret || is_error_result(*e.ret)) return emulate(e, entry_regs);
  // A recording that names the segment: every attachment of it, in any
  // process, maps replay's one copy of it.
  if (auto segment = trace::FileIdentity::from_info(e.info); segment && e.nr == __NR_shmat) {
    std::uint64_t prot = PROT_READ | (e.args[2] & SHM_RDONLY ? 0 : PROT_WRITE) | (e.args[2] & SHM_EXEC ? PROT_EXEC : 0);
    std::uint64_t size = ((e.mem.empty() ? 0 : e.mem[0].size) + 4095) & ~std::uint64_t{4095};
    return map_shared_view(e, entry_regs, *segment, SharedView{size, prot, MAP_SHARED, 0});
  }
  auto& attached = state_.process_of(state_.acting).shm_attachments;
  Registers call = entry_regs;
  std::uint64_t addr = e.nr == __NR_shmat ? static_cast<std::uint64_t>(*e.ret) : e.args[0];
  std::uint64_t size = 0;
  const std::vector<std::uint64_t>* same = nullptr;
  if (e.nr == __NR_shmat) {
    size = ((e.mem.empty() ? 0 : e.mem[0].size) + 4095) & ~std::uint64_t{4095};
    same = &attached[e.args[0]];
    if (same->empty()) {
      call.orig_rax = __NR_mmap;
      call.rdi = addr;
      call.rsi = size;
      call.rdx = PROT_READ | PROT_WRITE;
      call.r10 = MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE;
      call.r8 = static_cast<std::uint64_t>(-1);
      call.r9 = 0;
    } else {
      call.orig_rax = __NR_mremap;
      call.rdi = same->front();
      call.rsi = 0;
      call.rdx = size;
      call.r10 = MREMAP_MAYMOVE | MREMAP_FIXED;
      call.r8 = addr;
    }
  } else {
    auto m = mapping_containing(read_maps(t.tid()), addr);
    if (!m) diverge(e, fmt::format("has no shared memory attached at {:#x}", addr));
    call.orig_rax = __NR_munmap;
    call.rdi = addr;
    call.rsi = m->end - addr;
  }
  t.set_regs(call);
  expect_syscall_exit(e);
  std::int64_t ret = t.syscall_info().exit.rval;
  if (is_error_result(ret)) diverge(e, fmt::format("could not map or unmap its shared memory in its place ({})", errno_text(static_cast<int>(-ret))));
  if (e.nr != __NR_shmat) {
    for (auto& [id, places] : attached) std::erase(places, addr);
    std::erase_if(attached, [](const auto& entry) { return entry.second.empty(); });
    return finish_syscall_exit(e, entry_regs);
  }
  // Writable while ttdb fills it (an alias has the first attachment's
  // protection); then as the program asked.
  auto protect = [&](std::uint64_t prot) {
    if (e.args[2] & SHM_EXEC) prot |= PROT_EXEC;
    std::int64_t done = inject_syscall(t, task().syscall_insn, __NR_mprotect, {addr, size, prot, 0, 0, 0});
    if (is_error_result(done)) diverge(e, fmt::format("could not protect its shared memory ({})", errno_text(static_cast<int>(-done))));
  };
  if (!same->empty() || (e.args[2] & SHM_EXEC)) protect(PROT_READ | PROT_WRITE);
  attached[e.args[0]].push_back(addr);
  finish_syscall_exit(e, entry_regs);
  if (e.args[2] & SHM_RDONLY) protect(PROT_READ);
}

void ReplaySession::emit_output(const Event& e, ByteView bytes) {
  OutputFile& file = state_.stdout_file;
  if (e.emit != 1 || !file.followed) return sink_.write(e.emit, bytes);
  std::int64_t at = file.append ? file.size : file.position;
  bool moves = true;
  bool explicit_offset = e.nr == __NR_pwrite64 || e.nr == __NR_pwritev ||
                         (e.nr == __NR_pwritev2 && static_cast<std::int64_t>(e.args[3]) != -1);
  if (explicit_offset) {
    at = static_cast<std::int64_t>(e.args[3]) - file.base;
    moves = false;
  }
  auto end = at + static_cast<std::int64_t>(bytes.size());
  file.size = std::max(file.size, end);
  if (moves) file.position = end;
  sink_.write_at(1, at, file.position, bytes);
}

void ReplaySession::follow_output_file(const Event& e) {
  OutputFile& file = state_.stdout_file;
  if (e.emit != 1 || !file.followed || !e.ret || *e.ret < 0) return;
  switch (e.nr) {
    case __NR_lseek:
      file.position = *e.ret - file.base;
      sink_.seek(1, file.position);
      break;
    case __NR_ftruncate:
      file.size = static_cast<std::int64_t>(e.args[1]) - file.base;
      sink_.truncate(1, file.size);
      break;
    case __NR_fcntl:
      if (e.args[1] == F_SETFL) file.append = (e.args[2] & O_APPEND) != 0;
      break;
    default: break;
  }
}

void ReplaySession::after_syscall(const Event& e) {
  follow_output_file(e);
  if (!e.ret || is_error_result(*e.ret)) return;
  Tracee& t = tracee();
  switch (e.nr) {
    case __NR_mprotect:
    case __NR_pkey_mprotect:
      if (e.args[2] & PROT_EXEC)
        if (auto code = t.try_read_bytes(RemotePtr(e.args[0]), e.args[1])) rand().scan_and_patch(t, e.args[0], *code);
      break;
    case __NR_madvise:
      if (e.args[2] == MADV_DONTFORK || e.args[2] == MADV_WIPEONFORK) task().fork_advice = true;
      write_memory(e);  // what MADV_DONTNEED read again from a file mapped private
      break;
    case __NR_mremap:
      if (e.ret && !is_error_result(*e.ret))
        rand().remapped(e.args[0], e.args[1], e.args[2], static_cast<std::uint64_t>(*e.ret));
      write_memory(e);  // what a private file mapping shows of its file once it is longer
      break;
    case __NR_setrlimit:
    case __NR_prlimit64:
      apply_memory_limit(e);
      break;
    case __NR_open:
    case __NR_openat:
    case __NR_openat2:
    case __NR_creat:
      // Opened with O_TRUNC: the copy of a file mapped shared is cut too.
      if (auto file = trace::FileIdentity::from_info(e.info); file && shared_files_.has(*file)) shared_files_.resize(*file, 0);
      break;
    case __NR_truncate:
    case __NR_ftruncate:
    case __NR_fallocate:
      // The file's copy changes size or gets a hole, as the file did.
      if (auto file = trace::FileIdentity::from_info(e.info); file && shared_files_.has(*file)) {
        if (e.nr != __NR_fallocate) shared_files_.resize(*file, e.args[1]);
        else if (!shared_files_.allocate(*file, static_cast<int>(e.args[1]), e.args[2], e.args[3]))
          diverge(e, fmt::format("could not change replay's copy of the file the same way ({})", errno_text(errno)));
      }
      break;
    case __NR_write: case __NR_pwrite64: case __NR_writev: case __NR_pwritev: case __NR_pwritev2:
    case __NR_sendfile: case __NR_copy_file_range: case __NR_splice:
      // Written by a process that does not map the file, while another does.
      if (auto write = trace::FileWrite::from_info(e.info); write && !e.emit && shared_files_.has(write->file))
        shared_files_.write(write->file, write->offset, write->data);
      break;
    case __NR_munmap: forget_code(e.args[0], e.args[0] + e.args[1]); break;
    default: break;
  }
}

void ReplaySession::finish_spawn(const Event& e, const WaitStatus& first) {
  Registers entry = *std::exchange(task().spawn_entry, std::nullopt);
  Tracee& t = tracee();
  // A fork or vfork ran as a clone (AdoptedSpawn, session.cc).
  auto ran = static_cast<std::int64_t>(t.regs().orig_rax);
  bool same_call = ran == e.nr || (ran == __NR_clone && (e.nr == __NR_fork || e.nr == __NR_vfork));
  if (!first.is_syscall_stop() || t.syscall_info().op != PTRACE_SYSCALL_INFO_EXIT || !same_call)
    diverge(e, describe_stop(first));
  if (!e.ret) {
    task().no_return = true;  // the recording ended before the call returned
    return;
  }
  // The child's tid as recorded, where the program expects it.
  finish_syscall_exit(e, entry);
  leave_slow_tail(e);
}

void ReplaySession::apply_syscall(const Event& e, const WaitStatus& first) {
  if (task().spawn_entry) return finish_spawn(e, first);
  if (task().dying) {
    // A sibling's exit_group ends it inside (or before) this call. The
    // recording may have its result all the same (the kernel finished the
    // call before the kill reached the thread), while here the kill may
    // come first: the thread ends either way, and no one sees the result.
    task().no_return = true;
    return;
  }
  if (task().no_return) diverge(e, "had already ended its last syscall");
  // Checked at its `blocked` event already, since when the program's tracer
  // may have changed it (skipped it, as strace's fault injection does).
  if (!std::exchange(task().entry_checked, false)) check_entry(e, first);
  Tracee& t = tracee();
  const SyscallInfo* si = find_syscall(e.nr);
  check_inputs(e, si);
  if (!task().syscall_insn) task().syscall_insn = t.pc() - 2;
  // The registers at entry, a copy (what is done next changes them): read
  // only for what restores them (an executed call leaves them as they are).
  auto entry_regs = [&]() -> Registers { return t.regs(); };
  if (e.nr == __NR_exit_group && task().threaded) {
    // Every thread ends now, those waiting in the kernel too: their exit
    // events follow, and take the ends the kernel reports.
    int leader = task().process(e.tid);
    for (auto& [tid, other] : state_.tasks)
      if (other.process(tid) == leader) other.dying = true;
    release_process_robust_futexes(leader);
    task().no_return = true;
    // It goes into the kernel when the program moves on (run()): until then
    // the process's memory is there to look at.
    task().exit_group_unsent = true;
    return;
  }
  if (si && si->policy == ReplayPolicy::exit) release_robust_futexes(t, e.tid);
  if (!e.ret) {
    // The recording ended inside this call (the program was killed there).
    task().no_return = true;
    return;
  }
  if (tsc_patched_) watch_code_changes(e);
  unpatch_before_call(t, task().sites, rand(), e.nr, e.args.data());  // (as the recorder did at this call)
  ReplayPolicy policy = si ? si->policy : ReplayPolicy::emulate;
  switch (policy) {
    case ReplayPolicy::exit:
      task().no_return = true;
      return;
    case ReplayPolicy::execute:
    case ReplayPolicy::execute_set_ret: {
      auto trap_action = trap_action_set(t, e.nr, e.args.data());  // (read before the call may write the old one over it)
      std::int64_t ret = execute(e);
      if (trap_action && ret == 0) {
        state_.process_of(state_.acting).trap_action = *trap_action;
        // The int3s on the loader's xsavecs would force SIGTRAP through a
        // program's own action for it: the CPU runs them from here.
        if ((*trap_action)[0] != 0) rand().unpatch_xsave(t);
      }
      if (policy == ReplayPolicy::execute_set_ret) {
        Registers regs = t.regs();
        regs.rax = static_cast<unsigned long long>(*e.ret);
        t.set_regs(regs);
      } else if (ret != *e.ret && e.nr != __NR_rt_sigreturn) {
        Event seen = e;
        seen.ret = ret;
        diverge(e, "got " + render_result(seen));
      }
      break;
    }
    case ReplayPolicy::mmap: replay_mmap(e, entry_regs()); break;
    case ReplayPolicy::shm: replay_shm(e, entry_regs()); break;
    case ReplayPolicy::spawn:
      // A spawn event comes first when the call made a process.
      if (*e.ret > 0) fail("trace {} is corrupt: event {} made process {} without a spawn event", reader_.path(), e.id, *e.ret);
      emulate(e, entry_regs());
      break;
    default:
      if (auto mask = wait_mask(e, si)) wait_in_sigsuspend(e, entry_regs(), *mask);
      else emulate(e, entry_regs());
      break;
  }
  after_syscall(e);
  leave_slow_tail(e);
}

void ReplaySession::apply_memory_limit(const Event& e) {
  // The limits the kernel applies to what replay runs for real (brk, mmap,
  // mlock, the stack and layout a later exec gets) are set in replay too.
  // Not the others: replay's own descriptors must not run out, say.
  if (e.ret.value_or(-1) != 0) return;
  bool set = e.nr == __NR_setrlimit;
  std::uint64_t pid = set ? 0 : e.args[0];
  auto resource = static_cast<int>(set ? e.args[0] : e.args[1]);
  std::uint64_t limit_at = set ? e.args[1] : e.args[2];
  if ((pid != 0 && static_cast<int>(pid) != task().process(e.tid)) || !limit_at) return;
  if (resource != RLIMIT_DATA && resource != RLIMIT_STACK && resource != RLIMIT_AS && resource != RLIMIT_MEMLOCK) return;
  struct rlimit limit {};
  if (tracee().read_some(RemotePtr(limit_at), &limit, sizeof limit) != sizeof limit) return;
  if (::prlimit(tracee().tid(), static_cast<__rlimit_resource>(resource), &limit, nullptr) != 0)
    diverge(e, fmt::format("could not set the same limit in replay ({})", errno_text(errno)));
}

void ReplaySession::leave_slow_tail(const Event& e) {
  // Through a trampoline's slow tail: the program runs the instructions the
  // patch moved there, as it runs them after a call the shim made, so that
  // a breakpoint on one is hit the same whichever way replay makes the call
  // (the recording moved the thread on at once: where an event finds it
  // there, leave_trampoline does so too). Unless the kernel may restart the
  // call, in the tail.
  Tracee& t = tracee();
  if (task().shim && !is_restart_result(e.ret.value_or(0))) task().sites.stay_past_syscall(t);
}

}  // namespace ttdb
