// Calls that only ask the kernel something, each answer written into the
// program's memory: replay must write the same answers.
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/keyctl.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <unistd.h>

static unsigned sum(const void* p, size_t n) {
  unsigned s = 0;
  for (size_t i = 0; i < n; ++i) s = s * 31 + ((const unsigned char*)p)[i];
  return s;
}

int main(void) {
  struct timex tx;
  memset(&tx, 0xaa, sizeof tx);
  tx.modes = 0;
  int state = adjtimex(&tx);
  printf("adjtimex state %d, tick %ld\n", state, tx.tick);
  memset(&tx, 0xaa, sizeof tx);
  tx.modes = 0;
  printf("clock_adjtime %ld, tick %ld\n", syscall(SYS_clock_adjtime, 0, &tx), tx.tick);

  struct __user_cap_header_struct head = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct caps[2];
  memset(caps, 0xaa, sizeof caps);
  printf("capget %ld effective %#x\n", syscall(SYS_capget, &head, caps), caps[0].effective);

  struct { uint32_t size, policy; uint64_t flags; int32_t nice; uint32_t prio; uint64_t rt[3]; uint32_t u[2]; } attr;
  memset(&attr, 0xaa, sizeof attr);
  long r = syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0);
  printf("sched_getattr %ld size %u policy %u nice %d\n", r, attr.size, attr.policy, attr.nice);

  int mode = 0x5555;
  unsigned long nodes[2] = {0xaaaa, 0xaaaa};
  r = syscall(SYS_get_mempolicy, &mode, nodes, 128, 0, 0);
  printf("get_mempolicy %ld mode %d nodes %#lx\n", r, mode, nodes[0]);

  long key = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 1);
  char desc[128];
  memset(desc, 0, sizeof desc);
  r = key < 0 ? -1 : syscall(SYS_keyctl, KEYCTL_DESCRIBE, key, desc, sizeof desc);
  printf("keyring %s, description of %ld bytes: %s\n", key < 0 ? "none" : "made", r, strchr(desc, ';') ? "typed" : "?");

  int fd = open("/proc/self/exe", O_RDONLY);
  int block = -1, flags = -1;
  ioctl(fd, FIGETBSZ, &block);
  ioctl(fd, FS_IOC_GETFLAGS, &flags);
  printf("block size %d, flags known %d\n", block, flags != -1);
  printf("rw hint call %d\n", fcntl(fd, 1035 /* F_GET_RW_HINT */, &(uint64_t){0xaa}));

  int sock = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq reqs[8];
  memset(reqs, 0xaa, sizeof reqs);
  struct ifconf conf = {.ifc_len = sizeof reqs, .ifc_req = reqs};
  r = ioctl(sock, SIOCGIFCONF, &conf);
  printf("SIOCGIFCONF %ld: %d interfaces, first %s\n", r, conf.ifc_len / (int)sizeof(struct ifreq),
         conf.ifc_len ? reqs[0].ifr_name : "-");
  struct ifreq lo;
  memset(&lo, 0, sizeof lo);
  strcpy(lo.ifr_name, "lo");
  r = ioctl(sock, SIOCGIFFLAGS, &lo);
  printf("lo flags %ld: up %d, hash %u\n", r, (lo.ifr_flags & IFF_UP) != 0, sum(&lo, sizeof lo));
  return 0;
}
