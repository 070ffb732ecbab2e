// The processes and threads of a replay: their numbers (fixed by the
// recording, so the same at every position), their program images, and the
// one the user looks at.
#include <algorithm>
#include <map>
#include <filesystem>
#include <sched.h>
#include <tuple>

#include "engine_impl.h"
#include "ttdb/base/log.h"
#include "ttdb/trace/format.h"

namespace ttdb {

using trace::EventKind;

namespace {

// Numbers processes and threads as gdb does, in the order they started, never
// reusing one: a process's first thread is its thread 1.
struct Numbering {
  std::map<int, int>& processes;  // pid -> inferior number
  std::map<int, int>& threads;    // tid -> its number in its process
  std::map<int, int>& leaders;    // a thread's tid -> its process's first thread
  std::map<int, int> started;     // process -> threads started so far

  void process(int pid) {
    processes.try_emplace(pid, static_cast<int>(processes.size()) + 1);
    threads.try_emplace(pid, started[pid] = 1);
  }
  void thread(int parent, int tid) {
    int process = leaders.count(parent) ? leaders[parent] : parent;
    leaders.try_emplace(tid, process);
    threads.try_emplace(tid, ++started[process]);
  }
  void saw(const trace::Event& e) {
    // The exec of the program ttdb started is the first event; a later exec
    // keeps its process's numbers.
    if (e.kind == EventKind::exec && processes.empty()) process(e.tid);
    if (e.kind != EventKind::spawn) return;
    if (e.args[0] & CLONE_THREAD) thread(e.tid, static_cast<int>(e.nr));
    else process(static_cast<int>(e.nr));
  }
};

}  // namespace

const EngineImpl::Images& EngineImpl::program_images() {
  if (images) return *images;
  images.emplace();
  const auto& all = *(mappings ? mappings : (mappings = session.reader().file_mappings()));
  auto image_of = [&](int pid) {
    auto found = images->of_process.find(pid);
    return found == images->of_process.end() ? std::int64_t{0} : found->second.back().second;
  };
  std::size_t next = 0;
  auto cursor = session.reader().cursor();
  trace::Event e;
  Numbering numbering{images->numbers, images->thread_numbers, images->leaders, {}};
  while (cursor.next(e)) {
    numbering.saw(e);
    if (e.kind == EventKind::exec) images->of_process[e.tid].emplace_back(e.id, e.id);
    if (e.kind == EventKind::spawn) {
      images->of_process[static_cast<int>(e.nr)].emplace_back(e.id, image_of(e.tid));
      images->births[static_cast<int>(e.nr)].push_back(e.id);
    }
    for (; next < all.size() && all[next].event <= e.id; ++next)
      if (all[next].event == e.id) images->mappings[image_of(e.tid)].push_back(all[next]);
  }
  return *images;
}

bool EngineImpl::several_tasks() {
  // The recorder counts every process and thread it followed.
  if (!several_tasks_) several_tasks_ = session.reader().meta_int(trace::meta::processes).value_or(1) > 1;
  return *several_tasks_;
}

bool EngineImpl::several_processes() { return several_tasks() && program_images().numbers.size() > 1; }

bool Engine::several_processes() { return impl_->several_processes(); }

std::int64_t Engine::image() {
  if (impl_->session.ended()) return 0;
  return impl_->image_of_task(impl_->looked_at_task());
}

std::int64_t EngineImpl::image_of_task(int tid) {
  if (!several_processes()) return 0;
  const auto& of_process = program_images().of_process;
  const auto& tasks = session.state().tasks;
  if (auto task = tasks.find(tid); task != tasks.end()) tid = task->second.process(tid);  // a thread: its process's
  auto found = of_process.find(tid);
  if (found == of_process.end()) return 0;
  std::int64_t image = 0;
  for (const auto& [from, which] : found->second)
    if (from <= session.current_event()) image = which;
  return image;
}

std::int64_t EngineImpl::layout_of(std::int64_t image) {
  if (image == 0) return 0;
  auto [known, added] = layouts.try_emplace(image, image);
  if (!added) return known->second;
  auto same_places = [](const std::vector<trace::FileMapping>& a, const std::vector<trace::FileMapping>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const trace::FileMapping& x, const trace::FileMapping& y) {
      return x.addr == y.addr && x.size == y.size && x.file_offset == y.file_offset && x.path == y.path;
    });
  };
  for (const auto& [other, layout] : layouts)
    if (other == layout && other != image && same_places(mappings_of(other), mappings_of(image))) return known->second = layout;
  return image;
}

const std::vector<trace::FileMapping>& EngineImpl::mappings_of(std::int64_t image) {
  static const std::vector<trace::FileMapping> none;
  const auto& all = program_images().mappings;
  auto found = all.find(image);
  return found == all.end() ? none : found->second;
}

const std::vector<std::uint64_t>& EngineImpl::addresses_here(const Breakpoint& bp) {
  if (bp.image == 0 || session.ended()) return bp.addrs;
  std::int64_t layout = layout_of(image_of_task(session.acting_tid()));
  if (layout == layout_of(bp.image)) return bp.addrs;
  auto [it, added] = relocated.try_emplace({bp.id, layout});
  if (added && relocate) {
    // The front end looks at the acting thread's program.
    auto looking = std::exchange(selected, std::nullopt);
    try {
      it->second = relocate(bp.id);
    } catch (const Error&) {
      // (Not in that program: no function of that name, no such line.)
    }
    selected = looking;
  }
  return it->second;
}

const std::vector<trace::FileMapping>& Engine::image_mappings() {
  std::int64_t which = image();
  if (which == 0) return file_mappings();
  return impl_->mappings_of(which);
}

int EngineImpl::looked_at_task() const {
  if (selected) return *selected;
  // A thread that another thread's exec ended, whose exit event is next,
  // has nothing left to show: its process's first thread has.
  int acting = session.acting_tid();
  const auto& tracees = session.tracees();
  auto found = tracees.find(acting);
  if (found == tracees.end() || found->second.alive()) return acting;
  int leader = session.state().tasks.at(acting).process(acting);
  auto first = tracees.find(leader);
  return first != tracees.end() && first->second.alive() ? leader : acting;
}

Tracee& EngineImpl::looked_at() {
  if (auto found = session.tracees().find(looked_at_task()); found != session.tracees().end()) return found->second;
  return session.tracee();
}

const TaskState& EngineImpl::looked_at_state() {
  const auto& tasks = session.state().tasks;
  if (auto found = tasks.find(looked_at_task()); found != tasks.end()) return found->second;
  return session.task_state();
}

const RandPatcher& EngineImpl::looked_at_rand() {
  const SessionState& state = session.state();
  return state.rand_of(state.tasks.contains(looked_at_task()) ? looked_at_task() : state.acting);
}

int EngineImpl::inferior_number(int pid) {
  if (!several_processes()) return 1;
  const auto& numbers = program_images().numbers;
  auto found = numbers.find(pid);
  return found == numbers.end() ? 0 : found->second;
}

int EngineImpl::thread_number(int tid) {
  if (!several_tasks()) return 1;
  const auto& numbers = program_images().thread_numbers;
  auto found = numbers.find(tid);
  return found == numbers.end() ? 0 : found->second;
}

Engine::TaskNumbers Engine::task_numbers(int tid) {
  int process = tid;
  if (impl_->several_tasks())
    if (auto found = impl_->program_images().leaders.find(tid); found != impl_->program_images().leaders.end())
      process = found->second;
  return TaskNumbers{impl_->inferior_number(process), process, impl_->thread_number(tid)};
}

std::optional<int> Engine::recorded_thread(int inferior, int thread) {
  if (!impl_->several_tasks()) {
    if (inferior == 1 && thread == 1) return impl_->session.state().first;
    return std::nullopt;
  }
  for (const auto& [tid, number] : impl_->program_images().thread_numbers)
    if (number == thread && task_numbers(tid).inferior == inferior) return tid;
  return std::nullopt;
}

pid_t Engine::pid() { return impl_->looked_at().tid(); }

std::vector<Engine::Inferior> Engine::inferiors() {
  std::vector<Inferior> out;
  if (impl_->session.ended()) return out;
  int moving = impl_->session.acting_tid();
  int looked = impl_->looked_at_task();
  for (auto& [pid, tracee] : impl_->session.tracees()) {
    if (!tracee.alive()) continue;  // ended, its exit event not yet passed
    std::error_code error;
    std::string exe = std::filesystem::read_symlink(fmt::format("/proc/{}/exe", tracee.tid()), error).string();
    const auto& state = impl_->session.state().tasks.at(pid);
    int process = state.process(pid);
    out.push_back(Inferior{impl_->inferior_number(process), pid, tracee.tid(), exe, pid == moving, pid == looked, process,
                           impl_->thread_number(pid)});
  }
  std::sort(out.begin(), out.end(), [](const Inferior& a, const Inferior& b) {
    return std::tie(a.number, a.pid) < std::tie(b.number, b.pid);
  });
  return out;
}

void Engine::select_task(int pid) {
  if (!impl_->session.tracees().count(pid)) fail("there is no thread {} here", pid);
  impl_->selected = pid;
}

void Engine::select_inferior(int number) {
  for (const auto& inferior : inferiors())
    if (inferior.number == number && inferior.process == inferior.pid) {
      impl_->selected = inferior.pid;
      return;
    }
  fail("there is no inferior {} here; \"info inferiors\" lists the processes live at this point", number);
}

}  // namespace ttdb
