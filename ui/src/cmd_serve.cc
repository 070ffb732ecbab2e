// ttdb serve: the replay, driven by gdb over its remote protocol, on stdin
// and stdout or on a TCP port of the loopback interface.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>

#include "commands.h"
#include "ttdb/gdbserver/server.h"
#include "ttdb/base/unique_fd.h"
#include "ttdb/replay/engine.h"

namespace ttdb {
namespace {

// The program's output goes to stderr: stdout may be gdb's channel.
class StderrSink : public OutputSink {
 public:
  void write(int, ByteView bytes) override { write_all(STDERR_FILENO, bytes); }
};

UniqueFd accept_one(int port, const std::string& trace, const std::string& exe) {
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener) throw Error(fmt::format("cannot create a socket ({}); check the limits on open files", errno_text(errno)));
  int on = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(0x7f000001);  // 127.0.0.1
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener.get(), 1) != 0)
    throw Error(fmt::format("cannot listen on 127.0.0.1:{} ({}); pick another port with --port", port, errno_text(errno)));
  socklen_t len = sizeof addr;
  ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  std::fprintf(stderr, "ttdb: serving %s on 127.0.0.1:%d; connect with: gdb -ex 'target remote 127.0.0.1:%d' %s\n",
               trace.c_str(), ntohs(addr.sin_port), ntohs(addr.sin_port), exe.c_str());
  std::fflush(stderr);
  for (;;) {
    UniqueFd connection(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (connection) return connection;
    if (errno != EINTR) throw Error(fmt::format("cannot accept gdb's connection on port {} ({})", port, errno_text(errno)));
  }
}

}  // namespace

int run_serve(const ServeArgs& args) {
  std::string path = trace_or_latest(args.trace);
  StderrSink sink;
  std::optional<int> process;
  if (args.process > 0) process = args.process;
  if (args.port < 0) {
    // gdb's channel keeps the original stdin and stdout; anything else that
    // writes to fd 1 goes to stderr instead, and cannot corrupt the protocol.
    UniqueFd in(::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3)), out(::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3));
    if (!in || !out) throw Error(fmt::format("cannot duplicate stdin and stdout ({}); check the limits on open files", errno_text(errno)));
    ::dup2(STDERR_FILENO, STDOUT_FILENO);
    Engine engine(path, sink);
    gdb::Session session(engine, process);
    gdb::serve(session, engine, in.get(), out.get());
    return 0;
  }
  Engine engine(path, sink);
  gdb::Session session(engine, process);
  std::string exe;
  for (const auto& inferior : engine.inferiors())
    if (inferior.selected) exe = inferior.exe;
  UniqueFd connection = accept_one(args.port, path, exe);
  gdb::serve(session, engine, connection.get(), connection.get());
  return 0;
}

}  // namespace ttdb
