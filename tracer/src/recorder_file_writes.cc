// What a write to a file means for memory: a process's own mapping of the
// file shows it (the bytes go into the event, replay writes them through the
// mapping), and so does another process's, when the writer maps none of the
// file (the bytes go into the event's info, replay writes its copy of the
// file). Writes into a process's memory through /proc are caught here too.
#include "recorder_state.h"
#include <sys/wait.h>

namespace ttdb::recording {

bool Recorder::capture_write_effects(const SyscallArgs& call, std::int64_t ret, Event& e) {
  if (ret <= 0) return true;
  Tracee& t = tracee();
  std::optional<std::uint64_t> offset;  // where in the file the write began
  int fd = static_cast<int>(call.a[0]);
  // The offset a call moved on through a pointer: it began `ret` bytes before.
  auto moved_offset = [&](std::uint64_t at) -> std::optional<std::uint64_t> {
    std::uint64_t now = 0;
    if (!at || t.read_some(RemotePtr(at), &now, sizeof now) != sizeof now) return std::nullopt;
    return now - static_cast<std::uint64_t>(ret);
  };
  switch (call.nr) {
    case __NR_write: case __NR_writev: case __NR_sendfile: break;
    case __NR_pwrite64: case __NR_pwritev: offset = call.a[3]; break;
    case __NR_pwritev2: if (static_cast<std::int64_t>(call.a[3]) != -1) offset = call.a[3]; break;
    case __NR_copy_file_range:
    case __NR_splice:
      fd = static_cast<int>(call.a[2]);
      offset = moved_offset(call.a[3]);
      break;
    default: return true;
  }
  std::string fd_path = fmt::format("/proc/{}/fd/{}", t.tid(), fd);
  struct stat st;
  static const dev_t proc_dev = [] {
    struct stat proc{};
    ::stat("/proc", &proc);
    return proc.st_dev;
  }();
  if (::stat(fd_path.c_str(), &st) != 0) return true;
  bool proc_file = st.st_dev == proc_dev;
  if (!proc_file && !(space().file_writes_show && S_ISREG(st.st_mode))) return true;
  if (!offset) offset = fd_position(t.tid(), fd).value_or(0) - static_cast<std::uint64_t>(ret);
  auto bytes = static_cast<std::uint64_t>(ret);
  if (proc_file) {
    std::string target = read_link(fd_path);
    if (!target.ends_with("/mem")) return true;
    pid_t owner = std::atoi(target.c_str() + std::strlen("/proc/"));
    auto found = tasks_.find(owner);
    if (found == tasks_.end()) return false;
    if (found->second->tgid == task().tgid) {
      // Code written so was never scanned for rdtsc (recorder_tsc.cc).
      trap_tsc_again(*found->second, "its memory written through /proc");
      capture_memory(t, *offset, bytes, e.mem);
      return true;
    }
    // (A tracer's write, as its POKETEXT: the pages around it are scanned again.)
    rescan_for_tsc(*found->second, *offset, bytes);
    // A tracer writing into its tracee, held stopped for it (gdb puts its
    // breakpoints so): the same as its POKEDATA, an effect on the tracee.
    Task* traced = tracee_of_caller(owner, true);
    if (!traced || traced->traced->stop == EmulatedTracee::Stop::syscall_entry) return false;
    Event effect;
    capture_memory(traced->tracee, *offset, bytes, effect.mem);
    emit_tracer_effect(*traced, trace::PtraceEffect::memory, std::move(effect));
    return true;
  }
  bool mapped_here = false;
  for (const auto& m : read_maps(t.tid())) {
    if (m.inode != st.st_ino || m.dev != st.st_dev) continue;
    mapped_here |= m.shared;
    // The file's bytes [*offset, *offset + bytes) as this mapping shows them
    // (a private one's pages the program wrote show its own bytes still).
    std::uint64_t map_end = m.offset + (m.end - m.start);
    std::uint64_t from = std::max(*offset, m.offset), to = std::min(*offset + bytes, map_end);
    if (from < to) capture_memory(t, m.start + (from - m.offset), to - from, e.mem);
  }
  // Another process maps it shared: the bytes now in the file go into the event.
  trace::FileIdentity file{st.st_dev, st.st_ino};
  if (!mapped_here && bytes && e.info.empty() && !e.emit && mapped_shared_.count(file)) {
    settle_mappers(file);
    trace::FileWrite write{file, *offset, Bytes(bytes)};
    int in = ::open(fd_path.c_str(), O_RDONLY | O_CLOEXEC);
    ssize_t got = in < 0 ? -1 : ::pread(in, write.data.data(), write.data.size(), static_cast<off_t>(*offset));
    if (in >= 0) ::close(in);
    write.data.resize(static_cast<std::size_t>(std::max<ssize_t>(got, 0)));
    if (!write.data.empty()) e.info = write.to_info();
  }
  return true;
}

void Recorder::show_file_writes_everywhere(const trace::FileIdentity& file) {
  if (!mapped_shared_.insert(file).second) return;
  // A process that does not map the file may write it while another maps
  // it: its writes stop for the recorder too (the buffer makes none).
  for (auto& [tid, u] : tasks_) {
    if (u->fresh || !u->space || u->space->file_writes_show) continue;
    u->space->file_writes_show = true;
    if (!u->space->shim) continue;
    trace_file_writes_in_shim(u->tracee, u->space->shim);
    forget_shim_fds(u->tracee, u->space->shim);  // the kinds it learned said "buffer it"
  }
}

void Recorder::settle_mappers(const trace::FileIdentity& file) {
  // A mapper's code before its last buffered call may have written the
  // mapping (and then told this writer so): in replay it must run before
  // this write lands. Its stop, if the kernel holds one for ttdb, is taken
  // now, and a stopped mapper's buffer drained.
  Task* writer = task_;
  std::vector<pid_t> mappers;
  std::map<pid_t, bool> process_maps;  // a process's threads share its mappings
  for (auto& [tid, u] : tasks_) {
    if (u->tgid == writer->tgid || u->fresh || !u->space) continue;
    auto known = process_maps.try_emplace(u->tgid);
    if (known.second) known.first->second = maps_shared(u->tgid, file, false);
    if (known.first->second) mappers.push_back(tid);
  }
  for (pid_t tid : mappers) {
    settle_mapper(tid);
    // A mapper inside a syscall ran its code before that call's entry
    // (and may have told the writer so through it): its entry goes in
    // first, so that replay runs that code before the write lands.
    auto found = tasks_.find(tid);
    if (found != tasks_.end() && found->second->pending && !found->second->entry_placed)
      place_entry(*found->second, found->second->pending->event);
  }
  task_ = writer;
}

void Recorder::settle_mapper(pid_t tid) {
  // A running mapper may be inside the shim, its call made (the writer saw
  // its effect) and its record not written yet: it gets a moment to finish
  // (the shim's calls on pipes and sockets never wait), or to stop.
  for (int tries = 0; tries < 100; ++tries) {
    auto found = tasks_.find(tid);
    if (found == tasks_.end()) return;
    Task& mapper = *found->second;
    int raw = 0;
    if (!mapper.stopped && ::waitpid(tid, &raw, WNOHANG | __WALL) == tid) {
      task_ = &mapper;
      take_stop(raw);
      continue;
    }
    if (mapper.stopped) {
      task_ = &mapper;
      drain();
      return;
    }
    if (!mapper.space->shim || !shim_in_call(mapper.tracee, mapper.space->shim)) {
      drain_running(mapper);
      return;
    }
    ::usleep(50);
  }
}

}  // namespace ttdb::recording
