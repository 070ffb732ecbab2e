// Replaying an exec: the first program started as recorded, a later execve
// let through, and a program or script gone or changed since run from the
// trace's copy with the recorded stack layout.
#include "session.h"

#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>

#include <cstring>

#include "ttdb/base/log.h"
#include "ttdb/trace/format.h"
#include "ttdb/tracer/exec_stack.h"
#include "ttdb/tracer/inject.h"
#include "ttdb/tracer/launcher.h"
#include "ttdb/tracer/ptrace.h"
#include "ttdb/tracer/render.h"
#include "ttdb/tracer/signals.h"

namespace ttdb {

using trace::Event;

namespace {

// /dev/fd/N padded with slashes to `length` bytes: a program run from a copy
// by it gets the recorded stack layout (and then the recorded bytes, the
// name among them). Nothing when `length` is too short for it.
std::optional<std::string> descriptor_path(std::int64_t fd, std::size_t length) {
  std::string name = fmt::format("fd/{}", fd);
  if (length < 5 + name.size()) return std::nullopt;
  return "/dev" + std::string(length - 4 - name.size(), '/') + name;
}

}  // namespace

void ReplaySession::apply_exec(const Event& e, const WaitStatus& first) {
  // A program run from a descriptor (a memfd, a deleted file) exists only in the trace.
  bool from_descriptor = !tracees_.empty() && tracee().syscall_info().entry.nr == __NR_execveat;
  auto program = static_cast<std::int64_t>(e.args[2]);
  auto loader = static_cast<std::int64_t>(e.args[3]);
  // A dynamic loader other than the recorded one (another machine's) gives
  // way to the trace's copy: the program runs from a copy that names it.
  // (The first program is started by its path: a script there runs as the kernel finds it.)
  bool script = !e.info.empty() || (tracees_.empty() && starts_with_hashbang(first_program_path(e)));
  bool loader_copy = !from_descriptor && !(script && tracees_.empty()) && program && loader && files_.has_copy(loader) &&
                     !files_.is_on_disk(loader);
  // A program the recording ran that is gone or rebuilt since runs from the trace's copy.
  bool from_copy = !from_descriptor && !script && program &&
                   ((files_.has_copy(program) && !files_.is_on_disk(program)) || loader_copy);
  if (program && !((from_descriptor || from_copy) && files_.has_copy(program))) files_.check_on_disk(program);
  if (loader && !loader_copy) files_.check_on_disk(loader);
  if (tracees_.empty()) {
    LaunchOptions start;
    start.path = first_program_path(e);
    start.argv = reader_.argv();
    start.env = reader_.env();
    auto stack_limit = reader_.meta_int(trace::meta::stack_limit);
    if (stack_limit) start.stack_limit = *stack_limit < 0 ? RLIM_INFINITY : static_cast<rlim_t>(*stack_limit);
    start.cpu = pinning_cpu();
    start.trap_tsc = !tsc_patched_;
    start.own_process_group = true;
    start.no_new_privs = reader_.meta_int(trace::meta::no_new_privs).value_or(0) == 1;
    if (auto ignored = reader_.meta_int(trace::meta::signals_ignored)) start.ignored_signals = static_cast<std::uint64_t>(*ignored);
    if (auto blocked = reader_.meta_int(trace::meta::signals_blocked)) start.blocked_signals = static_cast<std::uint64_t>(*blocked);
    if (from_copy) {
      int fd = loader_copy ? program_with_loader(e, files_.copy_descriptor(loader)).fd.get() : files_.copy_descriptor(program);
      auto copy = descriptor_path(fd, start.path.size());
      if (!copy) cannot_run_copy(e);
      start.exec_path = *copy;
    }
    pin_to_cpu(start.cpu);
    events_.keep_off_cpu(start.cpu);
    tracees_.emplace(e.tid, launch(start));
    state_.tasks[e.tid] = TaskState{};
    state_.first = e.tid;
    task().trap_action = trap_action_after_exec(start.ignored_signals && (*start.ignored_signals & sigbit(SIGTRAP)));
  } else {
    // The program's own execve: `first` is its entry.
    if (!first.is_syscall_stop() || tracee().syscall_info().op != PTRACE_SYSCALL_INFO_ENTRY ||
        (tracee().syscall_info().entry.nr != __NR_execve && tracee().syscall_info().entry.nr != __NR_execveat))
      diverge(e, describe_stop(first));
    if (tracee().syscall_info().entry.nr == __NR_execveat) provide_exec_descriptor(e);
    else if (!e.info.empty()) run_interpreter_directly(e, loader_copy);
    else if (from_copy) run_program_copy(e, loader_copy);
    WaitStatus exec = task().threaded ? exec_from_threads(e) : resume_and_wait();
    if (!exec.is_event(PTRACE_EVENT_EXEC)) diverge(e, describe_stop(exec));
    tracee().reopen_memory();
  }
  Tracee& t = tracee();
  // A new program: nothing of the old one's stays (a vfork child's was its
  // parent's), but the thread's rdtsc fault (every thread's, without
  // rdtsc_patched).
  bool tsc_trapped = task().tsc_trapped || !tsc_patched_, tsc_owed = task().tsc_owed;
  // The descriptors of mapped files stay open across the exec (the new
  // program maps libc and the loader's cache too).
  auto mapping_fds = std::move(state_.process_of(state_.acting).mapping_fds);
  bool trap_ignored = state_.process_of(state_.acting).trap_action[0] == kIgnoreAction;
  task() = TaskState{};
  task().tsc_trapped = tsc_trapped;
  task().tsc_owed = tsc_owed;
  task().mapping_fds = std::move(mapping_fds);
  task().trap_action = trap_action_after_exec(trap_ignored);
  if (e.args[5] > static_cast<std::uint64_t>(VdsoTreatment::syscalls))
    fail("the exec at event {} treats the vDSO in a way this ttdb does not know ({}); replay it with a newer ttdb",
         e.id, e.args[5]);
  auto maps = read_maps(t.tid());
  InitialStack stack = prepare_initial_stack(t, static_cast<VdsoTreatment>(e.args[5]), maps);
  if (stack.sp.addr() != e.args[0] || stack.top.addr() != e.args[1])
    diverge(e, fmt::format("started with its stack at {:#x}-{:#x} instead of {:#x}-{:#x} (the "
                           "environment, arguments or kernel differ from the recording's)",
                           stack.sp.addr(), stack.top.addr(), e.args[0], e.args[1]));
  // The recorded stack restores AT_RANDOM (the canary and pointer guard).
  write_memory(e);
  if (loader_copy) restore_loader_name(e, stack.at_phdr);
  rand().patch_tsc(!tsc_trapped && !tsc_owed);
  // The program's and loader's files, mapped as recorded, name their code
  // for the scan for rdtsc and rdrand (reading and hashing it was most of
  // the scan), as in the recording.
  std::map<std::string, ContentHash> hashes;
  for (std::uint64_t file : {e.args[2], e.args[3]}) {
    auto id = static_cast<std::int64_t>(file);
    if (id && files_.is_on_disk(id)) hashes[files_.path(id)] = files_.hash(id);
  }
  rand().scan_process(t, maps, hashes);
  if (exact_xsave_ && task().trap_action[0] == 0) rand().patch_loader_xsave(t, maps);  // (see apply_syscall's rt_sigaction)
  // The vDSO has a `syscall` instruction at a fixed place: where
  // checkpoints inject their forks.
  if (stack.vdso_syscall) task().syscall_insn = stack.vdso_syscall;
  WaitStatus exit = resume_and_wait();
  if (!exit.is_syscall_stop() || t.syscall_info().op != PTRACE_SYSCALL_INFO_EXIT) diverge(e, describe_stop(exit));
}

WaitStatus ReplaySession::exec_from_threads(const Event& e) {
  // The kernel ends the process's other threads before the new program
  // starts; each stops at its end (PTRACE_EVENT_EXIT), where it must be let
  // go or the exec waits for ever. Their exit events follow this one.
  int leader = task().process(state_.acting);
  tracee().resume(Resume::syscall, std::exchange(task().resume_signal, 0));
  for (auto& [tid, other] : state_.tasks) {
    if (tid == state_.acting || tid == leader || other.process(tid) != leader) continue;
    Tracee& ending = tracees_.at(tid);
    for (WaitStatus status = ending.wait(); !status.is_exit(); status = ending.wait()) ending.resume(Resume::cont);
    other.dying = true;
  }
  if (state_.acting == leader) return tracee().wait();
  // From another thread: the exec is reported under the first thread's tid,
  // which the exec'ing thread takes; the first thread is gone without an end.
  Tracee& first = tracees_.at(leader);
  WaitStatus status = first.wait();
  while (status.is_event(PTRACE_EVENT_EXIT)) {
    first.resume(Resume::cont);
    status = first.wait();
  }
  if (!status.is_event(PTRACE_EVENT_EXEC)) diverge(e, describe_stop(status));
  tracees_.at(state_.acting).forget();
  tracees_.erase(state_.acting);
  state_.tasks.erase(state_.acting);
  state_.acting = leader;
  return status;
}

std::int64_t ReplaySession::call_before_entry(const Event& e, long nr, const std::array<std::uint64_t, 6>& args) {
  // The call stopped at its entry becomes `nr`; once it returns, the
  // program goes back to the syscall instruction to enter its own again.
  Tracee& t = tracee();
  Registers saved = t.regs();
  Registers call = saved;
  call.orig_rax = static_cast<unsigned long long>(nr);
  set_syscall_args(call, args.data());
  t.set_regs(call);
  expect_syscall_exit(e);
  auto result = static_cast<std::int64_t>(t.regs().rax);
  saved.rip -= 2;
  saved.rax = saved.orig_rax;
  t.set_regs(saved);
  WaitStatus again = resume_and_wait();
  if (!again.is_syscall_stop() || t.syscall_info().op != PTRACE_SYSCALL_INFO_ENTRY) diverge(e, describe_stop(again));
  return result;
}

std::int64_t ReplaySession::open_program_copy(const Event& e, std::int64_t id) { return open_copy(e, files_.copy_path(id)); }

std::int64_t ReplaySession::open_program_with_loader(const Event& e) {
  std::int64_t loader = open_program_copy(e, static_cast<std::int64_t>(e.args[3]));
  return open_copy(e, program_with_loader(e, loader).path);
}

std::int64_t ReplaySession::open_copy(const Event& e, const std::string& path) {
  std::int64_t fd = open_before_entry(e, path, O_RDONLY);
  if (fd < 0) fail("cannot open a copy of the program the recording ran: {}", errno_text(static_cast<int>(-fd)));
  return fd;
}

std::int64_t ReplaySession::open_before_entry(const Event& e, const std::string& path, int flags, bool cloexec) {
  StackScratch text(tracee(), ByteView(reinterpret_cast<const std::uint8_t*>(path.c_str()), path.size() + 1));
  if (!text) diverge(e, fmt::format("has no stack to pass the path of {}, which replay opens for it", path));
  if (cloexec) flags |= O_CLOEXEC;
  return call_before_entry(e, __NR_openat, {static_cast<std::uint64_t>(AT_FDCWD), text.addr().addr(), static_cast<std::uint64_t>(flags)});
}

void ReplaySession::provide_exec_descriptor(const Event& e) {
  Tracee& t = tracee();
  auto entry = t.syscall_info().entry;
  auto id = static_cast<std::int64_t>(e.args[2]);
  bool empty_path = t.read_c_string(RemotePtr(entry.args[1])).value_or("x").empty();
  if (!id || !(entry.args[4] & AT_EMPTY_PATH) || !empty_path || files_.is_on_disk(id)) return;
  // The descriptor was emulated: it is made now, on a copy of the program
  // from the trace, with the same number (the kernel names the program
  // /dev/fd/N on the new stack, whose layout must be the recorded one).
  std::int64_t fd = open_program_copy(e, id);
  if (static_cast<std::uint64_t>(fd) == entry.args[0]) return;
  // (A mapped file's descriptor kept there is gone: it must not outlive the exec.)
  std::erase_if(state_.process_of(state_.acting).mapping_fds,
                [&](const auto& kept) { return static_cast<std::uint64_t>(kept.second) == entry.args[0]; });
  call_before_entry(e, __NR_dup3, {static_cast<std::uint64_t>(fd), entry.args[0], O_CLOEXEC});
  call_before_entry(e, __NR_close, {static_cast<std::uint64_t>(fd)});
}

void ReplaySession::run_program_copy(const Event& e, bool with_loader) {
  // The program execs its copy through /dev/fd/N, padded to the length of
  // the path it gave.
  Tracee& t = tracee();
  auto id = static_cast<std::int64_t>(e.args[2]);
  auto path = t.read_c_string(RemotePtr(t.syscall_info().entry.args[0]));
  std::int64_t fd = with_loader ? open_program_with_loader(e) : open_program_copy(e, id);
  std::uint64_t at = (t.regs().rsp - 4096) & ~std::uint64_t{15};  // below the red zone: the stack goes with the exec
  auto padded = path ? descriptor_path(fd, path->size()) : std::nullopt;
  if (!padded) cannot_run_copy(e);
  Bytes text(padded->begin(), padded->end());
  text.push_back(0);
  if (!t.write_bytes(RemotePtr(at), text)) diverge(e, "has no stack to pass the path of its program's copy");
  Registers regs = t.regs();
  regs.rdi = at;
  t.set_regs(regs);
}

const FileCopy& ReplaySession::program_with_loader(const Event& e, std::int64_t loader_fd) {
  auto program = static_cast<std::int64_t>(e.args[2]);
  auto interp = elf_interpreter(files_.content(program));
  auto name = interp ? descriptor_path(loader_fd, interp->size - 1) : std::nullopt;
  if (!name) cannot_run_copy(e);
  return files_.copy_with_interpreter(program, *name);
}

void ReplaySession::restore_loader_name(const Event& e, std::uint64_t at_phdr) {
  // The kernel has read the copy's name for the loader; the program reads
  // the recorded one (the loader names itself by it), from memory.
  const Bytes& program = files_.content(static_cast<std::int64_t>(e.args[2]));
  auto interp = elf_interpreter(program);
  if (!interp || !at_phdr) diverge(e, "started without the program headers where its dynamic loader is named");
  std::uint64_t bias = at_phdr - interp->phdr_vaddr;
  ByteView name(program.data() + interp->offset, interp->size);
  if (!tracee().write_bytes(RemotePtr(bias + interp->vaddr), name))
    diverge(e, fmt::format("cannot have its dynamic loader's recorded name written at {:#x}", bias + interp->vaddr));
}

std::string ReplaySession::first_program_path(const Event& e) const {
  return reader_.meta(trace::meta::program).value_or(e.path.value_or(""));
}

bool ReplaySession::starts_with_hashbang(const std::string& path) {
  char head[2] = {};
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  return fd && ::pread(fd.get(), head, 2, 0) == 2 && head[0] == '#' && head[1] == '!';
}

void ReplaySession::cannot_run_copy(const Event& e) {
  // A path too short to name a copy by descriptor ("/dev/fd/N").
  auto program = static_cast<std::int64_t>(e.args[2]), loader = static_cast<std::int64_t>(e.args[3]);
  std::int64_t missing = program && !files_.is_on_disk(program) ? program : loader;
  if (!missing) fail("cannot replay the exec at event {}: the path it ran by is too short to name the trace's copy", e.id);
  fail("cannot replay the exec at event {} with the trace's copy of {}: the path it ran by is too short to name the "
       "copy; replay where {} is as recorded",
       e.id, files_.path(missing), files_.path(missing));
}

void ReplaySession::run_interpreter_directly(const Event& e, bool with_loader) {
  // The recording ran a script (`info` is its "#!" line), which may be gone
  // or changed now; its reads are replayed from the trace anyway. So replay
  // execs the interpreter itself with the arguments the kernel gave it:
  // the line's interpreter, its one optional argument, the script's path,
  // then the program's own arguments after the first. The interpreter's
  // path is padded with slashes to the script path's length, so that the
  // new stack has the recorded layout (and then the recorded bytes).
  std::string line(e.info.begin() + 2, e.info.end());
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  auto from = std::find_if_not(line.begin(), line.end(), blank);
  auto name_end = std::find_if(from, line.end(), blank);
  std::string interpreter(from, name_end);
  std::string argument(std::find_if_not(name_end, line.end(), blank), line.end());
  while (!argument.empty() && blank(argument.back())) argument.pop_back();
  Tracee& t = tracee();
  auto entry = t.syscall_info().entry;
  auto script = t.read_c_string(RemotePtr(entry.args[0]));
  if (!script || interpreter.empty() || interpreter[0] != '/' || interpreter.size() > script->size()) {
    if (with_loader) cannot_run_copy(e);
    return;
  }
  std::string padded = std::string(script->size() - interpreter.size(), '/') + interpreter;
  if (with_loader) {
    // The interpreter runs from a copy that names the trace's loader.
    auto by_descriptor = descriptor_path(open_program_with_loader(e), script->size());
    if (!by_descriptor) cannot_run_copy(e);
    padded = *by_descriptor;
    entry = t.syscall_info().entry;  // the injected opens went through the entry stop again
  }

  std::vector<std::uint64_t> argv;
  for (std::uint64_t at = entry.args[1];; at += 8) {
    std::uint64_t word = 0;
    if (t.read_some(RemotePtr(at), &word, sizeof word) != sizeof word || argv.size() > 65536) return;
    if (!word) break;
    argv.push_back(word);
  }
  // Below the red zone: the old stack goes with the exec.
  std::uint64_t place = (t.regs().rsp - 4096) & ~std::uint64_t{15};
  auto put = [&](const std::string& text) {
    place -= text.size() + 1;
    Bytes bytes(text.begin(), text.end());
    bytes.push_back(0);
    if (!t.write_bytes(RemotePtr(place), bytes)) diverge(e, "has no stack to pass its interpreter's arguments");
    return place;
  };
  std::vector<std::uint64_t> args{put(interpreter)};
  if (!argument.empty()) args.push_back(put(argument));
  args.push_back(entry.args[0]);
  args.insert(args.end(), argv.begin() + (argv.empty() ? 0 : 1), argv.end());
  args.push_back(0);
  std::uint64_t path = put(padded);
  place = (place - args.size() * 8) & ~std::uint64_t{15};
  if (!t.write_bytes(RemotePtr(place), Bytes(reinterpret_cast<const std::uint8_t*>(args.data()),
                                              reinterpret_cast<const std::uint8_t*>(args.data() + args.size()))))
    diverge(e, "has no stack to pass its interpreter's arguments");
  Registers regs = t.regs();
  regs.rdi = path;
  regs.rsi = place;
  t.set_regs(regs);
}

}  // namespace ttdb
