#include "ttdb/gdbserver/process.h"

#include <sched.h>

#include <fmt/format.h>

#include "ttdb/base/error.h"

namespace ttdb::gdb {

ServedProcess::ServedProcess(Engine& engine, int number) : engine_(engine), number_(number) {
  // Its life in the recording: from the event that made it (the fork, or
  // the first exec for the first process) to its first thread's exit.
  bool found = false;
  for (std::int64_t id = 1; id <= engine_.event_count(); ++id) {
    auto e = engine_.recorded_event(id);
    if (!e) break;
    bool makes_it = id == 1 ? number == 1
                            : e->kind == trace::EventKind::spawn && !(e->args[0] & CLONE_THREAD) &&
                                  engine_.task_numbers(static_cast<int>(e->nr)).inferior == number;
    if (makes_it && !found) {
      birth_ = id;
      found = true;
    }
    if (found && e->kind == trace::EventKind::exit && engine_.task_numbers(e->tid).inferior == number &&
        engine_.task_numbers(e->tid).thread == 1)
      exit_ = *e;
  }
  if (!found || number < 1) fail("the recording has no process {}; 'ttdb info' says how many it has", number);
}

void ServedProcess::go_to_start() {
  // A fork's child is live once the fork's event is applied; it has run
  // no instruction yet.
  if (birth_ > engine_.event()) engine_.goto_event(birth_);
  for (int tries = 0; !select() && tries < 8 && engine_.event() < engine_.event_count(); ++tries) engine_.goto_event(engine_.event() + 1);
  if (!select()) fail("process {} is never live in this replay", number_);
  start_ = engine_.position();
}

bool ServedProcess::select() {
  for (const auto& inferior : engine_.inferiors())
    if (inferior.number == number_ && inferior.pid == inferior.process) {
      if (!inferior.selected) engine_.select_inferior(number_);
      return true;
    }
  return false;
}

bool ServedProcess::stopped_in_it() {
  for (const auto& inferior : engine_.inferiors())
    if (inferior.selected) return inferior.number == number_;
  return false;
}

std::optional<WaitStatus> ServedProcess::ended() {
  if (!exit_ || engine_.event() < exit_->id) return std::nullopt;
  bool killed = exit_->args[0] == static_cast<std::uint64_t>(trace::ExitKind::killed);
  return WaitStatus::decode(killed ? static_cast<int>(exit_->nr) : static_cast<int>(exit_->nr & 0xff) << 8);
}

}  // namespace ttdb::gdb
