// Calls that move data between descriptors and memory and write back where
// they stopped: offsets, lengths, another process's memory.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void) {
  char path[] = "/tmp/ttdb-moves-XXXXXX";
  int in = mkstemp(path);
  unlink(path);
  const char* text = "the quick brown fox jumps over the lazy dog\n";
  write(in, text, strlen(text));
  char path2[] = "/tmp/ttdb-moves-XXXXXX";
  int out = mkstemp(path2);
  unlink(path2);

  loff_t from = 4, to = 0;
  ssize_t copied = copy_file_range(in, &from, out, &to, 15, 0);
  printf("copy_file_range %zd, offsets now %lld and %lld\n", copied, (long long)from, (long long)to);

  int pipes[2];
  pipe(pipes);
  loff_t at = 10;
  ssize_t spliced = splice(in, &at, pipes[1], NULL, 9, 0);
  char piped[16] = {0};
  read(pipes[0], piped, sizeof piped - 1);
  printf("splice %zd, offset now %lld, '%s'\n", spliced, (long long)at, piped);

  int pair[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, pair);
  struct iovec iov[2] = {{"one", 3}, {"three", 5}};
  struct mmsghdr msgs[2];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < 2; ++i) {
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_len = 0xaaaa;
  }
  int sent = sendmmsg(pair[0], msgs, 2, 0);
  printf("sendmmsg %d: lengths %u %u\n", sent, msgs[0].msg_len, msgs[1].msg_len);

  char source[32] = "memory read across processes", target[32];
  memset(target, '.', sizeof target);
  struct iovec local = {target, sizeof target}, remote = {source, sizeof source};
  ssize_t moved = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  printf("process_vm_readv %zd: '%s'\n", moved, target);
  char patch[] = "WRITTEN";
  struct iovec from_iov = {patch, 7}, to_iov = {source, 7};
  moved = process_vm_writev(getpid(), &from_iov, 1, &to_iov, 1, 0);
  printf("process_vm_writev %zd: '%s'\n", moved, source);
  return 0;
}
