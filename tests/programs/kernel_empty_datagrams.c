// Kernel corner (tests/e2e/kernel_test.cc): an empty datagram is a message
// of its own on datagram and seqpacket sockets. A write() of no bytes sends
// one, and a read() takes it, returning 0, before the next message.
#include "kernel_common.h"
#include <sys/socket.h>

static void exchange(int type, const char* name) {
  int sv[2];
  CHECK(socketpair(AF_UNIX, type, 0, sv) == 0);
  CHECK(write(sv[0], "", 0) == 0);
  CHECK(write(sv[0], "next", 4) == 4);
  CHECK(send(sv[0], "", 0, 0) == 0);
  CHECK(write(sv[0], "last", 4) == 4);
  char buffer[8];
  for (int i = 0; i < 4; ++i) {
    ssize_t n = read(sv[1], buffer, sizeof buffer);
    CHECK(n >= 0);
    printf("%s: message %d has %zd bytes%s%.*s\n", name, i, n, n ? ": " : "", (int)n, buffer);
  }
  close(sv[0]);
  close(sv[1]);
}

int main(void) {
  exchange(SOCK_DGRAM, "datagram");
  exchange(SOCK_SEQPACKET, "seqpacket");
  return 0;
}
