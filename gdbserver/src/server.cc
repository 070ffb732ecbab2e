#include "ttdb/gdbserver/server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <thread>
#include <elf.h>

#include "target.h"
#include "ttdb/base/error.h"
#include "ttdb/base/parse.h"
#include "ttdb/base/unique_fd.h"

namespace ttdb::gdb {
namespace {

constexpr const char* kSupported =
    "PacketSize=4000;qXfer:features:read+;qXfer:auxv:read+;qXfer:exec-file:read+;qXfer:libraries-svr4:read+;ReverseStep+;ReverseContinue+;"
    "swbreak+;hwbreak+;QStartNoAckMode+;vContSupported+;QCatchSyscalls+";

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string error_reply() { return "E01"; }

// The part of `data` that a qXfer read of "offset,length" asks for, with
// 'm' (more follows) or 'l' (the last part).
std::string xfer_part(const std::string& data, std::string_view range) {
  auto parts = split(range, ',');
  if (parts.size() != 2) return error_reply();
  auto offset = parse_hex(parts[0]), length = parse_hex(parts[1]);
  if (!offset || !length) return error_reply();
  if (*offset >= data.size()) return "l";
  std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>({*length, data.size() - *offset, kMaxPacket / 2}));
  return (*offset + n < data.size() ? "m" : "l") + data.substr(*offset, n);
}

std::string text_hex(const std::string& text) { return to_hex(text); }

}  // namespace

int gdb_signal(int s) {
  // gdb's own numbering (include/gdb/signals.def) where it differs from Linux's.
  switch (s) {
    case 7: return 10;    // SIGBUS
    case 10: return 30;   // SIGUSR1
    case 12: return 31;   // SIGUSR2
    case 16: return 143;  // SIGSTKFLT: none in gdb; "unknown"
    case 17: return 20;   // SIGCHLD
    case 18: return 19;   // SIGCONT
    case 19: return 17;   // SIGSTOP
    case 20: return 18;   // SIGTSTP
    case 23: return 16;   // SIGURG
    case 29: return 23;   // SIGIO
    case 30: return 32;   // SIGPWR
    case 31: return 12;   // SIGSYS
    default: return s >= 1 && s <= 31 ? s : 143;
  }
}

Session::Session(Engine& engine, std::optional<int> process) : engine_(engine) {
  // The engine starts at the exec, where the stack pointer is at argc, then
  // argv, the environment and the auxiliary vector.
  Registers regs = engine_.registers();
  std::uint64_t at = regs.rsp;
  auto word = [&](std::uint64_t addr) -> std::optional<std::uint64_t> {
    auto bytes = engine_.read_memory(addr, 8);
    if (!bytes || bytes->size() != 8) return std::nullopt;
    std::uint64_t value;
    std::memcpy(&value, bytes->data(), 8);
    return value;
  };
  if (auto argc = word(at); argc && *argc < 1'000'000) {
    at += 8 * (*argc + 2);
    for (int i = 0; i < 1'000'000; ++i, at += 8) {
      auto env = word(at);
      if (!env) break;
      if (*env == 0) {
        at += 8;
        break;
      }
    }
    for (int i = 0; i < 512; ++i, at += 16) {
      auto type = word(at), value = word(at + 8);
      if (!type || !value) break;
      auxv_ += le_hex(*type, 8);
      auxv_ += le_hex(*value, 8);
      if (*type == AT_NULL) break;
    }
    auxv_ = from_hex(auxv_).value_or("");
  }
  // (A forked child's auxiliary vector is its parent's: the one read above.)
  if (process) {
    process_.emplace(engine_, *process);
    process_->go_to_start();
  }
  for (const auto& inferior : engine_.inferiors())
    if (inferior.selected) exe_ = inferior.exe;
}

int Session::current_tid() {
  for (const auto& inferior : engine_.inferiors())
    if (inferior.selected) return inferior.pid;
  return engine_.inferiors().empty() ? 1 : engine_.inferiors().front().pid;
}

std::optional<WaitStatus> Session::exit_status() { return process_ ? process_->ended() : engine_.exit_status(); }

bool Session::select_thread(std::string_view id) {
  if (id == "0" || id == "-1" || id.empty()) return true;
  auto tid = parse_hex(id);
  if (!tid) return false;
  int process = 0;
  for (const auto& inferior : engine_.inferiors())
    if (inferior.selected) process = inferior.process;
  for (const auto& inferior : engine_.inferiors())
    if (static_cast<std::uint64_t>(inferior.pid) == *tid && (!process_ || inferior.process == process)) {
      if (!inferior.selected) engine_.select_task(inferior.pid);
      return true;
    }
  return false;
}

std::string Session::thread_list() {
  std::string out;
  int process = 0;
  auto inferiors = engine_.inferiors();
  for (const auto& inferior : inferiors)
    if (inferior.selected) process = inferior.process;
  for (const auto& inferior : inferiors) {
    if (inferior.process != process) continue;
    out += out.empty() ? "m" : ",";
    out += fmt::format("{:x}", inferior.pid);
  }
  return out.empty() ? "l" : out;
}

std::string Session::stop_reply_here() {
  if (auto status = exit_status()) {
    if (status->kind() == WaitStatus::Kind::killed) return fmt::format("X{:02x}", gdb_signal(status->code()));
    return fmt::format("W{:02x}", status->code() & 0xff);
  }
  return fmt::format("T05thread:{:x};", current_tid());
}

std::string Session::stop_reply(const Stop& stop, Direction direction) {
  std::string thread = fmt::format("thread:{:x};", current_tid());
  switch (stop.kind) {
    case Stop::Kind::start:
      return "T05replaylog:begin;" + thread;
    case Stop::Kind::end:
      if (direction == Direction::forward && exit_status()) return stop_reply_here();
      return (direction == Direction::forward ? "T05replaylog:end;" : "T05replaylog:begin;") + thread;
    case Stop::Kind::breakpoint: {
      for (const auto& [key, id] : points_)
        if (id == stop.id) return fmt::format("T05{}{}:;", thread, key.first == '1' ? "hwbreak" : "swbreak");
      return "T05" + thread + "swbreak:;";
    }
    case Stop::Kind::watchpoint:
      for (const auto& watch : engine_.watchpoints())
        if (watch.id == stop.id) {
          const char* what = watch.kind == WatchKind::write ? "watch" : watch.kind == WatchKind::read ? "rwatch" : "awatch";
          return fmt::format("T05{}{}:{:x};", thread, what, watch.addr);
        }
      return "T05" + thread;
    case Stop::Kind::signal:
      return fmt::format("T{:02x}{}", gdb_signal(stop.signal), thread);
    case Stop::Kind::syscall:
      // gdb's `catch syscall`: the call, or its return.
      return fmt::format("T05{}{}:{:x};", thread, stop.returned ? "syscall_return" : "syscall_entry", stop.syscall);
    case Stop::Kind::interrupted:
      return "T02" + thread;
    default:
      return "T05" + thread;
  }
}

std::string Session::handle(std::string_view packet) {
  try {
    if (packet.empty()) return "";
    switch (packet[0]) {
      case '?':
        return stop_reply_here();
      case 'g':
        return registers_hex();
      case 'p': {
        auto number = parse_hex(packet.substr(1));
        if (!number || *number >= target_register_count()) return error_reply();
        return register_hex(engine_.registers(), engine_.xstate(), static_cast<std::size_t>(*number));
      }
      case 'G': case 'P': case 'M': case 'X':
        return error_reply();  // the past is read-only
      case 'm':
        return read_memory(packet.substr(1));
      case 'H':
        if (packet.size() < 2) return error_reply();
        return select_thread(packet.substr(2)) ? "OK" : error_reply();
      case 'T': {
        auto tid = parse_hex(packet.substr(1));
        if (!tid) return error_reply();
        for (const auto& inferior : engine_.inferiors())
          if (static_cast<std::uint64_t>(inferior.pid) == *tid) return "OK";
        return error_reply();
      }
      case 'c': case 's': case 'C': case 'S':
        return resume(packet);
      case 'b':
        if (packet == "bc" || packet == "bs") return resume(packet);
        return "";
      case 'Z': case 'z':
        return set_point(packet, packet[0] == 'Z');
      case 'q': case 'Q':
        return query(packet);
      case 'v':
        if (packet == "vCont?") return "vCont;c;C;s;S;r";
        if (starts_with(packet, "vCont;")) return vcont(packet.substr(6));
        if (packet == "vKill" || starts_with(packet, "vKill;")) {
          finished_ = true;
          return "OK";
        }
        return "";
      case 'D':
        finished_ = true;
        return "OK";
      case 'k':
        finished_ = true;
        return "";
      default:
        return "";
    }
  } catch (const Error&) {
    // A motion or a read the engine refused: gdb shows an error, the session goes on.
    return error_reply();
  }
}

std::string Session::query(std::string_view packet) {
  if (starts_with(packet, "qSupported")) return kSupported;
  if (packet == "QStartNoAckMode") {
    no_ack_ = true;
    return "OK";
  }
  if (packet == "qAttached" || starts_with(packet, "qAttached:")) return "1";
  if (starts_with(packet, "QCatchSyscalls:")) return catch_syscalls(packet.substr(15));
  if (packet == "qC") return fmt::format("QC{:x}", current_tid());
  if (packet == "qfThreadInfo") {
    if (process_) process_->select();
    return thread_list();
  }
  if (packet == "qsThreadInfo") return "l";
  if (starts_with(packet, "qXfer:")) return xfer(packet.substr(6));
  if (starts_with(packet, "qRcmd,")) {
    try {
      return monitor(packet.substr(6));
    } catch (const Error& e) {
      return text_hex(fmt::format("ttdb: {}\n", e.what()));
    }
  }
  return "";
}

std::string Session::xfer(std::string_view args) {
  auto parts = split(args, ':');
  if (parts.size() != 4 || parts[1] != "read") return "";
  if (parts[0] == "features") {
    if (parts[2] != "target.xml") return "E00";
    return xfer_part(target_xml(), parts[3]);
  }
  if (parts[0] == "auxv") return xfer_part(auxv_, parts[3]);
  if (parts[0] == "exec-file") return xfer_part(engine_.local_path(exe_), parts[3]);
  if (parts[0] == "libraries-svr4") {
    // Made afresh when gdb starts reading, the same document for its next parts.
    if (starts_with(parts[3], "0,"))
      libraries_ = libraries_svr4(engine_, auxv_, parts[2]);
    return xfer_part(libraries_, parts[3]);
  }
  return "";
}

std::string Session::registers_hex() {
  Registers regs = engine_.registers();
  Bytes xstate = engine_.xstate();
  std::string out;
  for (std::size_t i = 0; i < target_register_count(); ++i) out += register_hex(regs, xstate, i);
  return out;
}

std::string Session::register_hex(const Registers& regs, const Bytes& xstate, std::size_t number) {
  auto bytes = register_bytes(regs, xstate, number);
  if (!bytes) return std::string(register_size(number) * 2, 'x');  // unavailable
  return to_hex(*bytes);
}

std::string Session::read_memory(std::string_view args) {
  auto parts = split(args, ',');
  if (parts.size() != 2) return error_reply();
  auto addr = parse_hex(parts[0]), length = parse_hex(parts[1]);
  if (!addr || !length) return error_reply();
  std::uint64_t left = std::min<std::uint64_t>(*length, kMaxPacket / 2);
  std::string out;
  // Page by page, so that a read running into an unmapped page returns what comes before it.
  while (left > 0) {
    std::uint64_t to_page_end = 0x1000 - (*addr & 0xfff);
    std::size_t n = static_cast<std::size_t>(std::min(left, to_page_end));
    auto bytes = engine_.read_memory(*addr, n);
    if (!bytes || bytes->empty()) break;
    out += to_hex(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
    if (bytes->size() < n) break;
    *addr += n;
    left -= n;
  }
  return out.empty() && *length > 0 ? error_reply() : out;
}

std::string Session::catch_syscalls(std::string_view request) {
  // "0": none; "1": all; "1;NR;NR...": those (hex).
  if (catchpoint_) engine_.remove(std::exchange(catchpoint_, 0));
  if (request == "0") return "OK";
  auto parts = split(request, ';');
  if (parts.empty() || parts[0] != "1") return error_reply();
  std::set<std::int64_t> numbers;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    auto nr = parse_hex(parts[i]);
    if (!nr) return error_reply();
    numbers.insert(static_cast<std::int64_t>(*nr));
  }
  catchpoint_ = engine_.add_syscall_catchpoint(std::move(numbers));
  return "OK";
}

std::string Session::set_point(std::string_view packet, bool insert) {
  auto parts = split(packet.substr(1), ',');
  if (parts.size() < 3 || parts[0].size() != 1) return error_reply();
  char type = parts[0][0];
  auto addr = parse_hex(parts[1]);
  auto kind = parse_hex(split(parts[2], ';')[0]);
  if (!addr || !kind) return error_reply();
  if (type < '0' || type > '4') return "";
  auto key = std::make_pair(type, *addr);
  auto found = points_.find(key);
  if (!insert) {
    if (found != points_.end()) {
      engine_.remove(found->second);
      points_.erase(found);
    }
    return "OK";
  }
  if (found != points_.end()) return "OK";
  if (type >= '2') {
    if (*kind == 0 || *kind > 8) return error_reply();
    WatchKind watch = type == '2' ? WatchKind::write : type == '3' ? WatchKind::read : WatchKind::access;
    points_[key] = engine_.add_watchpoint(*addr, static_cast<std::uint32_t>(*kind), watch);
  } else {
    points_[key] = engine_.add_breakpoint(*addr);
  }
  return "OK";
}

std::string Session::resume(std::string_view packet) {
  Direction direction = packet[0] == 'b' ? Direction::backward : Direction::forward;
  bool step = packet == "bs" || packet[0] == 's' || packet[0] == 'S';
  // c ADDR and s ADDR (resume elsewhere) would change the past: refused.
  if ((packet[0] == 'c' || packet[0] == 's') && packet.size() > 1) return error_reply();
  Stop stop = move(step, direction);
  if (step && stop.kind == Stop::Kind::none && direction == Direction::backward) stop.kind = Stop::Kind::start;
  return stop_reply(stop, direction);
}

Stop Session::move(bool step, Direction direction) {
  for (;;) {
    Stop stop = step ? engine_.stepi(direction) : engine_.resume(direction);
    if (!process_) return stop;
    // The served process's history begins at its first instruction and ends with it.
    if (direction == Direction::backward && (stop.kind == Stop::Kind::start || engine_.event() < process_->start().event)) {
      engine_.seek(process_->start());
      process_->select();
      return Stop(Stop::Kind::start);
    }
    if (process_->ended()) return Stop(Stop::Kind::end);
    bool hit = stop.kind == Stop::Kind::breakpoint || stop.kind == Stop::Kind::watchpoint || stop.kind == Stop::Kind::signal;
    // Another process's breakpoint hit or signal is not gdb's to see: run on.
    if (hit && !step && !process_->stopped_in_it()) continue;
    process_->select();
    return stop;
  }
}

std::string Session::step_range(std::uint64_t start, std::uint64_t end) {
  for (;;) {
    Stop stop = engine_.stepi(Direction::forward);
    if (stop.kind != Stop::Kind::step) return stop_reply(stop, Direction::forward);
    std::uint64_t pc = engine_.registers().rip;
    if (pc < start || pc >= end) return stop_reply(stop, Direction::forward);
    // A breakpoint inside the range stops the range step, as gdb expects.
    for (char type : {'0', '1'})
      if (auto found = points_.find({type, pc}); found != points_.end()) {
        Stop hit(Stop::Kind::breakpoint);
        hit.id = found->second;
        return stop_reply(hit, Direction::forward);
      }
  }
}

std::string Session::vcont(std::string_view actions) {
  // The first action for the current thread (or for all threads) decides;
  // the replay moves every thread as recorded anyway.
  for (auto action : split(actions, ';')) {
    auto colon = action.find(':');
    std::string_view what = action.substr(0, colon);
    if (colon != std::string_view::npos && !select_thread(action.substr(colon + 1))) continue;
    if (what.empty()) return error_reply();
    switch (what[0]) {
      case 'c': case 'C':
        return resume("c");
      case 's': case 'S':
        return resume("s");
      case 'r': {
        auto range = split(what.substr(1), ',');
        if (range.size() != 2) return error_reply();
        auto start = parse_hex(range[0]), end = parse_hex(range[1]);
        if (!start || !end) return error_reply();
        return step_range(*start, *end);
      }
      default:
        return error_reply();
    }
  }
  return error_reply();
}

std::string Session::monitor(std::string_view hex) {
  auto command = from_hex(hex);
  if (!command) return error_reply();
  auto words = split(*command, ' ');
  if (*command == "help" || command->empty())
    return text_hex(
        "ttdb monitor commands:\n"
        "  monitor event           the current event (the last one applied)\n"
        "  monitor goto event N    move to event N\n"
        "  monitor checkpoint      remember this position\n"
        "  monitor restart N       back (or on) to checkpoint N\n"
        "  monitor help            this list\n"
        "After a move: 'maintenance flush register-cache' and 'maintenance flush dcache'.\n");
  if (*command == "event")
    return text_hex(fmt::format("event {} of {}; {}\n", engine_.event(), engine_.event_count(), engine_.position().describe()));
  if (*command == "checkpoint") {
    int id = engine_.bookmark();
    return text_hex(fmt::format("checkpoint {}: {}\n", id, engine_.position().describe()));
  }
  if (words.size() == 2 && words[0] == "restart") {
    auto id = parse_uint(std::string(words[1]));
    auto position = id && *id < 1'000'000'000 ? engine_.bookmark_position(static_cast<int>(*id)) : std::nullopt;
    if (!position) return text_hex(fmt::format("ttdb: no checkpoint {}; 'monitor checkpoint' makes one\n", words[1]));
    engine_.seek(*position);
    return text_hex(fmt::format("checkpoint {}: {}\n", *id, engine_.position().describe()));
  }
  if (words.size() == 3 && words[0] == "goto" && words[1] == "event") {
    auto n = parse_uint(std::string(words[2]));
    if (!n || *n < 1 || static_cast<std::int64_t>(*n) > engine_.event_count())
      return text_hex(fmt::format("ttdb: no event {} in this recording; give a number from 1 to {}\n", words[2], engine_.event_count()));
    engine_.goto_event(static_cast<std::int64_t>(*n));
    return text_hex(fmt::format("event {}\n", engine_.event()));
  }
  return text_hex(fmt::format("ttdb: unknown monitor command '{}'; 'monitor help' lists them\n", *command));
}

namespace {

bool is_resume(std::string_view packet) {
  return packet == "bc" || packet == "bs" || starts_with(packet, "vCont;") ||
         (!packet.empty() && (packet[0] == 'c' || packet[0] == 's' || packet[0] == 'C' || packet[0] == 'S'));
}

// While the replay runs, gdb's ^C (a user's Ctrl-C, an IDE's pause) asks the
// engine to stop; other bytes that arrive meanwhile are kept for later.
class InterruptWatcher {
 public:
  InterruptWatcher(Engine& engine, int in_fd) : engine_(engine), in_fd_(in_fd), stop_(Pipe::create(O_CLOEXEC)) {
    thread_ = std::thread([this] { watch(); });
  }
  ~InterruptWatcher() {
    if (thread_.joinable()) finish();
  }
  InterruptWatcher(const InterruptWatcher&) = delete;
  InterruptWatcher& operator=(const InterruptWatcher&) = delete;
  // Stops watching; the bytes read meanwhile.
  std::string finish() {
    char byte = 0;
    while (::write(stop_.write_end.get(), &byte, 1) < 0 && errno == EINTR) {
    }
    thread_.join();
    return std::move(received_);
  }

 private:
  void watch() {
    pollfd fds[2] = {{in_fd_, POLLIN, 0}, {stop_.read_end.get(), POLLIN, 0}};
    for (;;) {
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents) return;
      if (!fds[0].revents) continue;
      char buffer[512];
      ssize_t n = ::read(in_fd_, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        engine_.interrupt();  // gdb went away: no one waits for this run
        return;
      }
      std::string_view bytes(buffer, static_cast<std::size_t>(n));
      if (bytes.find('\x03') != std::string_view::npos) engine_.interrupt();
      received_.append(bytes);
    }
  }

  Engine& engine_;
  int in_fd_;
  Pipe stop_;
  std::string received_;
  std::thread thread_;
};

}  // namespace

void serve(Session& session, Engine& engine, int in_fd, int out_fd) {
  Reader reader;
  auto send = [&](const std::string& bytes) {
    if (int error = write_all(out_fd, as_bytes(bytes)))
      throw Error(fmt::format("cannot write to gdb ({}): the connection is lost", errno_text(error)));
  };
  char buffer[4096];
  while (!session.finished()) {
    ssize_t n = ::read(in_fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // gdb went away
    reader.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
    while (auto input = reader.next()) {
      if (input->kind == Input::Kind::bad || input->kind == Input::Kind::too_long) {
        if (!session.no_ack()) send("-");
        continue;
      }
      if (input->kind != Input::Kind::packet) continue;
      if (!session.no_ack()) send("+");
      std::string reply;
      if (is_resume(input->data)) {
        InterruptWatcher watcher(engine, in_fd);
        reply = session.handle(input->data);
        reader.feed(watcher.finish());
      } else {
        reply = session.handle(input->data);
      }
      if (input->data == "k") return;
      send(frame(reply));
      if (session.finished()) return;
    }
  }
}

}  // namespace ttdb::gdb
