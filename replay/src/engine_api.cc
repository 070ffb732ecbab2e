// The engine's public face (ttdb/replay/engine.h): what front ends call,
// each a thin wrapper over EngineImpl's motions and state.
#include <sys/ptrace.h>

#include <algorithm>

#include "engine_impl.h"
#include "file_contents.h"

namespace ttdb {

Engine::Engine(const std::string& trace_path, OutputSink& sink, EngineOptions options)
    : impl_(std::make_unique<EngineImpl>(trace_path, sink, options)) {}

Engine::~Engine() = default;

const Position& Engine::position() const { return impl_->pos; }
std::int64_t Engine::event() const { return impl_->session.current_event(); }
std::int64_t Engine::event_count() const { return impl_->session.reader().event_count(); }
std::optional<WaitStatus> Engine::exit_status() const { return impl_->session.ended(); }
const std::vector<trace::FileMapping>& Engine::file_mappings() const {
  if (!impl_->mappings) impl_->mappings = impl_->session.reader().file_mappings();
  return *impl_->mappings;
}

GoLiveResult Engine::go_live(const GoLiveOptions& options) { return impl_->session.go_live(impl_->looked_at_task(), options); }

std::string Engine::local_path(const std::string& path) {
  auto& files = impl_->session.files();
  if (!impl_->trace_only_files) {
    impl_->trace_only_files.emplace();
    for (const auto& file : impl_->session.reader().files())
      if (file.blob && !files.is_on_disk(file.id)) (*impl_->trace_only_files)[file.path] = file.id;
  }
  auto found = impl_->trace_only_files->find(path);
  return found == impl_->trace_only_files->end() ? path : files.copy_path(found->second);
}

std::optional<trace::Event> Engine::recorded_event(std::int64_t id) const { return impl_->session.reader().event(id); }

Registers Engine::registers() {
  Registers regs = impl_->looked_at().regs();
  // In a trampoline's copy of an instruction of the program's (one an rdtsc
  // site's patch moved), the program stands at that instruction.
  if (!impl_->session.ended())
    if (auto at = impl_->looked_at_state().sites.moved_original(regs.rip)) regs.rip = *at;
  return regs;
}

Bytes Engine::xstate() {
  if (impl_->session.ended()) return {};
  return impl_->looked_at().xstate();
}

std::uint64_t Engine::code_address(std::uint64_t pc) {
  if (impl_->session.ended()) return pc;
  return impl_->looked_at_state().sites.program_address(pc).value_or(pc);
}

std::optional<Bytes> Engine::read_memory(std::uint64_t addr, std::size_t size) {
  if (impl_->session.ended()) return std::nullopt;
  auto bytes = impl_->looked_at().try_read_bytes(RemotePtr(addr), size);
  if (!bytes) return std::nullopt;
  // Show the program's own instructions where ttdb put an int3 or a jump to the syscall buffer.
  const TaskState& state = impl_->looked_at_state();
  const RandPatcher& rand = impl_->looked_at_rand();
  for (std::size_t i = 0; i < bytes->size(); ++i) {
    if ((*bytes)[i] == kInt3)
      if (auto original = rand.original_byte(addr + i)) (*bytes)[i] = *original;
    if (auto original = state.sites.original_byte(addr + i)) (*bytes)[i] = *original;
  }
  return bytes;
}

int Engine::add_breakpoint(std::uint64_t addr, bool temporary) { return add_breakpoint(std::vector{addr}, temporary); }

int Engine::add_breakpoint(std::vector<std::uint64_t> addrs, bool temporary) {
  int id = impl_->next_id++;
  impl_->breakpoints[id] = Breakpoint{id, std::move(addrs), true, temporary, 0, image()};
  return id;
}

int Engine::add_watchpoint(std::uint64_t addr, std::uint32_t len, WatchKind kind) {
  // x86 has 4 debug registers of 1, 2, 4 or 8 aligned bytes; a larger or
  // unaligned object takes several, as in gdb.
  std::size_t used = 0;
  for (const auto& [id, w] : impl_->watchpoints)
    if (w.enabled) used += watch_pieces(w.addr, w.len).size();
  if (len == 0) fail("a watchpoint covers at least one byte");
  std::size_t needed = watch_pieces(addr, std::min<std::uint32_t>(len, 64)).size();
  if (used + needed > 4)
    fail("watching {} bytes at {:#x} needs {} debug registers and {} of the 4 are free; delete a watchpoint or watch a smaller part",
         len, addr, needed, 4 - used);
  int id = impl_->next_id++;
  int process = impl_->several_processes() ? impl_->process_of_task(impl_->looked_at_task()) : 0;
  impl_->watchpoints[id] = Watchpoint{id, addr, len, true, 0, kind, process};
  return id;
}

int Engine::add_catchpoint(std::function<bool(const trace::Event&)> catches) {
  int id = impl_->next_id++;
  impl_->catchpoints[id] = Catchpoint{id, true, 0, std::move(catches)};
  return id;
}

int Engine::add_syscall_catchpoint(std::set<std::int64_t> numbers) {
  return add_catchpoint([numbers = std::move(numbers)](const trace::Event& e) {
    return e.kind == trace::EventKind::syscall && (numbers.empty() || numbers.count(e.nr));
  });
}

std::vector<Catchpoint> Engine::catchpoints() const {
  std::vector<Catchpoint> out;
  for (const auto& [id, c] : impl_->catchpoints) out.push_back(c);
  return out;
}

bool Engine::remove(int id) {
  return impl_->breakpoints.erase(id) + impl_->watchpoints.erase(id) + impl_->catchpoints.erase(id) > 0;
}

bool Engine::set_enabled(int id, bool enabled) {
  if (auto bp = impl_->breakpoints.find(id); bp != impl_->breakpoints.end()) {
    bp->second.enabled = enabled;
    return true;
  }
  if (auto w = impl_->watchpoints.find(id); w != impl_->watchpoints.end()) {
    w->second.enabled = enabled;
    return true;
  }
  if (auto c = impl_->catchpoints.find(id); c != impl_->catchpoints.end()) {
    c->second.enabled = enabled;
    return true;
  }
  return false;
}

std::vector<Breakpoint> Engine::breakpoints() const {
  std::vector<Breakpoint> out;
  for (const auto& [id, bp] : impl_->breakpoints) out.push_back(bp);
  return out;
}

std::vector<Watchpoint> Engine::watchpoints() const {
  std::vector<Watchpoint> out;
  for (const auto& [id, w] : impl_->watchpoints) out.push_back(w);
  return out;
}

void Engine::set_condition(std::function<bool(int)> condition) { impl_->condition = std::move(condition); }

void Engine::set_relocator(std::function<std::vector<std::uint64_t>(int)> relocate) {
  impl_->relocate = std::move(relocate);
  impl_->relocated.clear();
}

void Engine::set_signal_stop(int sig, bool stop) { impl_->signal_stops[sig] = stop; }

bool Engine::signal_stops(int sig) const {
  trace::Event arrival;
  arrival.kind = trace::EventKind::signal;
  arrival.nr = sig;
  return impl_->handle_stops_at(&arrival);
}

Stop Engine::resume(Direction direction) {
  return impl_->command([&] {
    if (direction == Direction::backward) return impl_->reverse_continue();
    Goal goal;
    goal.user_points = true;
    return impl_->run(goal);
  });
}

Stop Engine::stepi(Direction direction) {
  return impl_->command(
      [&] { return direction == Direction::forward ? impl_->user_step() : impl_->reverse_stepi(); });
}

Stop Engine::goto_event(std::int64_t event) {
  auto count = event_count();
  if (event < 1 || event > count) fail("there is no event {}: the recording has events 1 to {}", event, count);
  return impl_->command([&] {
    // From the program as it stands or from a checkpoint, whichever is closer.
    Stop stop = impl_->seek(Position{event, {}});
    if (stop.kind == Stop::Kind::step || stop.kind == Stop::Kind::none) stop.kind = Stop::Kind::event;
    return stop;
  });
}

Stop Engine::seek(const Position& position) {
  return impl_->command([&] { return impl_->seek(position); });
}

Stop Engine::run_to(const std::vector<std::uint64_t>& addrs, const ArrivalFilter& accepts, bool stop_at_breakpoints) {
  int task = impl_->looked_at_task();  // before the command shows the one that moves
  return impl_->command([&] {
    Goal goal;
    goal.user_points = stop_at_breakpoints;
    goal.until_addrs = addrs;
    goal.until_accepts = accepts;
    goal.until_task = task;
    goal.until_layout = impl_->layout_of(impl_->image_of_task(task));
    return impl_->run(goal);
  });
}

Stop Engine::reverse_to(const std::vector<std::uint64_t>& addrs, const ArrivalFilter& accepts) {
  int task = impl_->looked_at_task();
  return impl_->command([&] { return impl_->reverse_to(addrs, accepts, task); });
}

void Engine::interrupt() {
  impl_->interrupt_requested = true;
  // A program deep in a loop without syscalls must be stopped to notice.
  if (pid_t pid = impl_->running) {
    impl_->interrupt_sent = true;
    ::ptrace(PTRACE_INTERRUPT, pid, 0, 0);
  }
}

int Engine::bookmark() {
  if (impl_->pending_first || !impl_->session.can_checkpoint())
    fail("cannot keep a checkpoint here: a signal or an event is half delivered (step once and try again), "
         "or a process's first thread has ended while its other threads run");
  int id = impl_->next_bookmark++;
  impl_->checkpoints.take(impl_->session, impl_->pos, Checkpoint::Kind::bookmark, id);
  return id;
}

std::optional<Position> Engine::bookmark_position(int id) const {
  if (const auto* c = impl_->checkpoints.bookmark(id)) return c->position;
  return std::nullopt;
}

std::vector<std::pair<int, Position>> Engine::bookmarks() const {
  std::vector<std::pair<int, Position>> out;
  for (const auto& c : impl_->checkpoints.all())
    if (c.kind == Checkpoint::Kind::bookmark) out.emplace_back(c.bookmark_id, c.position);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

bool Engine::forget_bookmark(int id) { return impl_->checkpoints.forget_bookmark(id); }
std::size_t Engine::checkpoint_count() const { return impl_->checkpoints.size(); }
std::uint64_t Engine::checkpoint_memory_kib() const { return impl_->checkpoints.memory_kib(); }

}  // namespace ttdb
