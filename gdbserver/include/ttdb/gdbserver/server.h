// A gdb remote-protocol server over a replay: gdb's execution commands move
// the Engine forward and backward, its reads look at the replayed program,
// and its writes are refused (the past is read-only). One process is
// followed: the one the engine looks at, or the one --process names
// (gdb_process.h); thread ids are the recorded tids, in gdb's
// single-process syntax (no multiprocess extensions).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "ttdb/gdbserver/files.h"
#include "ttdb/gdbserver/packets.h"
#include "ttdb/gdbserver/process.h"
#include "ttdb/replay/engine.h"

namespace ttdb::gdb {

// The packets of one connection to the replies they get: no I/O, so the
// tests can drive it packet by packet.
class Session {
 public:
  // `process`: the number of the one process gdb sees (--process N); all
  // of the recording's when not given.
  explicit Session(Engine& engine, std::optional<int> process = std::nullopt);

  // The reply to one packet (without framing).
  std::string handle(std::string_view packet);
  // gdb asked to end the session (k, D, vKill).
  bool finished() const { return finished_; }
  // gdb asked to stop acknowledging packets (QStartNoAckMode).
  bool no_ack() const { return no_ack_; }

 private:
  std::string query(std::string_view packet);
  std::string resume(std::string_view packet);
  std::string vcont(std::string_view actions);
  std::string stop_reply(const Stop& stop, Direction direction);
  std::string stop_reply_here();
  std::string registers_hex();
  std::string register_hex(const Registers& regs, const Bytes& xstate, std::size_t number);
  std::string read_memory(std::string_view args);
  std::string set_point(std::string_view packet, bool insert);
  std::string monitor(std::string_view hex);
  std::string xfer(std::string_view args);
  std::string step_range(std::uint64_t start, std::uint64_t end);
  Stop move(bool step, Direction direction);
  std::optional<WaitStatus> exit_status();
  int current_tid();
  bool select_thread(std::string_view id);
  std::string thread_list();

  Engine& engine_;
  std::string auxv_;  // the recorded auxiliary vector, read from the initial stack
  std::string exe_;
  std::string libraries_;  // the library list gdb is reading, part by part
  std::optional<ServedProcess> process_;
  std::map<std::pair<char, std::uint64_t>, int> points_;  // (Z type, address) -> engine id
  int catchpoint_ = 0;  // QCatchSyscalls' engine catchpoint, if gdb asked for one
  std::string catch_syscalls(std::string_view request);
  bool finished_ = false;
  bool no_ack_ = false;
};

// Runs a session over `in_fd` and `out_fd` until gdb ends it or goes away.
// (The session is made first: its errors, a process the recording does not
// have, come before a connection is taken.)
void serve(Session& session, Engine& engine, int in_fd, int out_fd);

// gdb's number for a Linux signal.
int gdb_signal(int linux_signal);

}  // namespace ttdb::gdb
