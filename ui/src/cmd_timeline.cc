// ttdb timeline: one self-contained HTML page drawing the recording, a lane
// per process and thread along its events. The page (timeline.html) is
// built in; the events go into it compressed (deflate, which the browser's
// DecompressionStream reads), so that a million of them load in a moment.
#include <fmt/format.h>
#include <fcntl.h>
#include <zlib.h>

#include <array>
#include <cstdio>
#include <string_view>

#include "commands.h"
#include "timeline_page.h"
#include "trace_tasks.h"
#include "ttdb/base/unique_fd.h"
#include "ttdb/trace/format.h"
#include "ttdb/tracer/syscall_table.h"

namespace ttdb {
namespace {

// What an event is drawn as; the page has a name and a colour for each.
enum class Look : std::uint8_t {
  exec, spawn, exit, signal, output, file, memory, process, time, communication, other_call, instruction, ttdb
};

Look syscall_look(const trace::Event& e) {
  std::string name = syscall_name(e.nr);
  auto is = [&](std::initializer_list<std::string_view> names) {
    for (auto n : names)
      if (name == n) return true;
    return false;
  };
  auto starts = [&](std::string_view prefix) { return name.rfind(prefix, 0) == 0; };
  if (is({"write", "writev", "pwrite64", "pwritev", "pwritev2"}) && (e.args[0] == 1 || e.args[0] == 2)) return Look::output;
  if (is({"mmap", "munmap", "mprotect", "mremap", "brk", "madvise", "mlock", "munlock", "msync", "mincore"})) return Look::memory;
  if (is({"wait4", "waitid", "exit", "exit_group", "execve", "execveat", "kill", "tkill", "tgkill", "prctl", "arch_prctl",
          "set_tid_address", "setsid", "setpgid", "getpid", "getppid", "gettid", "ptrace"}))
    return Look::process;
  if (starts("clock_") || is({"nanosleep", "gettimeofday", "time", "alarm", "setitimer", "getitimer", "timer_create",
                              "timer_settime", "timerfd_create", "timerfd_settime", "timerfd_gettime"}))
    return Look::time;
  // Setting handlers and masks is the process's state; Look::signal is a delivery.
  if (starts("rt_sig") || starts("sigalt") || starts("signalfd")) return Look::process;
  if (starts("futex") || starts("epoll") || starts("socket") || starts("send") || starts("recv") ||
      is({"poll", "ppoll", "select", "pselect6", "pipe", "pipe2", "connect", "accept", "accept4", "bind", "listen",
          "shutdown", "getsockopt", "setsockopt", "eventfd2", "semop", "semget", "msgsnd", "msgrcv", "shmat", "shmget"}))
    return Look::communication;
  if (starts("open") || starts("read") || starts("write") || starts("pread") || starts("pwrite") || starts("stat") ||
      starts("fstat") || starts("newfstat") || starts("statx") || starts("lseek") || starts("close") || starts("getdents") ||
      starts("access") || starts("faccess") || starts("unlink") || starts("rename") || starts("mkdir") || starts("fcntl") ||
      starts("ioctl") || starts("dup") || starts("chdir") || starts("getcwd") || starts("ftruncate") || starts("fsync") ||
      starts("copy_file") || starts("sendfile") || starts("splice"))
    return Look::file;
  return Look::other_call;
}

Look look_of(const trace::Event& e) {
  switch (e.kind) {
    case trace::EventKind::exec: return Look::exec;
    case trace::EventKind::spawn: return Look::spawn;
    case trace::EventKind::exit: return Look::exit;
    case trace::EventKind::signal: return Look::signal;
    case trace::EventKind::syscall: return syscall_look(e);
    case trace::EventKind::rdtsc:
    case trace::EventKind::rdrand: return Look::instruction;
    default: return Look::ttdb;
  }
}

Bytes deflate_raw(ByteView data) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) fail("cannot start zlib's compressor");
  Bytes out(deflateBound(&z, data.size()));
  z.next_in = const_cast<Bytef*>(data.data());
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) fail("cannot compress the timeline's events (zlib error {})", rc);
  return out;
}

std::string base64(ByteView data) {
  static constexpr char kDigits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < data.size(); i += 3) {
    std::uint32_t n = static_cast<std::uint32_t>(data[i]) << 16;
    if (i + 1 < data.size()) n |= static_cast<std::uint32_t>(data[i + 1]) << 8;
    if (i + 2 < data.size()) n |= data[i + 2];
    out += kDigits[(n >> 18) & 63];
    out += kDigits[(n >> 12) & 63];
    out += i + 1 < data.size() ? kDigits[(n >> 6) & 63] : '=';
    out += i + 2 < data.size() ? kDigits[n & 63] : '=';
  }
  return out;
}

// A JSON string that is safe inside a <script> element too.
std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') out += '\\', out += static_cast<char>(c);
    else if (c < 0x20 || c == '<' || c == '>' || c == '&') out += fmt::format("\\u{:04x}", c);
    else out += static_cast<char>(c);
  }
  return out + "\"";
}

std::string lane_label(const TraceTask& task) {
  if (task.tid != task.process) return fmt::format("tid {} (thread of {})", task.tid, task.process);
  return fmt::format("pid {} {}", task.tid, command_line(task));
}

}  // namespace

int run_timeline(const TimelineArgs& args) {
  std::string path = trace_or_latest(args.trace);
  trace::TraceReader reader(path);
  bool several = reader.meta_int(trace::meta::processes).value_or(1) > 1;
  TaskTracker tracker(reader);
  Bytes lanes, looks, text;
  std::int64_t count = 0;
  auto cursor = reader.cursor();
  for (trace::Event e; cursor.next(e); ++count) {
    int lane = std::max(tracker.see(e), 0);
    for (int shift = 0; shift < 32; shift += 8) lanes.push_back(static_cast<std::uint8_t>(lane >> shift));
    looks.push_back(static_cast<std::uint8_t>(look_of(e)));
    std::string line = event_line(e, several);
    text.insert(text.end(), line.begin(), line.end());
    text.push_back('\n');
  }
  std::string lane_list;
  for (const auto& task : tracker.tasks())
    lane_list += fmt::format("{}{{\"tid\":{},\"process\":{},\"label\":{},\"first\":{},\"last\":{}}}", lane_list.empty() ? "" : ",",
                             task.tid, task.process, json_string(lane_label(task)), task.first_event, task.last_event);
  std::string data = fmt::format(
      "{{\"trace\":{},\"program\":{},\"events\":{},\"lanes\":[{}],\"lane\":\"{}\",\"look\":\"{}\",\"text\":\"{}\"}}",
      json_string(path), json_string(reader.meta(trace::meta::program).value_or("?")), count, lane_list,
      base64(deflate_raw(lanes)), base64(deflate_raw(looks)), base64(deflate_raw(text)));

  std::string_view page = kTimelinePage;
  constexpr std::string_view kSlot = "/*TTDB_TIMELINE_DATA*/null";
  auto slot = page.find(kSlot);
  if (slot == std::string_view::npos) throw InternalError("the timeline page has no place for its data");
  std::string html = std::string(page.substr(0, slot)) + data + std::string(page.substr(slot + kSlot.size()));
  UniqueFd out(::open(args.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!out) fail("cannot write the timeline to {}: {}; check the path and its permissions", args.output, errno_text(errno));
  if (int error = write_all(out.get(), as_bytes(html)))
    fail("cannot write the timeline to {}: {}; check the space on its disk", args.output, errno_text(error));
  std::fprintf(stderr, "ttdb: timeline of %lld events and %zu lanes written to %s\n", static_cast<long long>(count),
               tracker.tasks().size(), args.output.c_str());
  return 0;
}

}  // namespace ttdb
