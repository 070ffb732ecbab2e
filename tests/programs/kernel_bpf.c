// Kernel corner (tests/e2e/kernel_test.cc): bpf(2) maps and programs. The
// kernel answers through the attribute block and the buffers it points to:
// a looked-up value, the next key, an object's info, a program's verifier
// log and its test run's result. Exits 77 where bpf is not permitted.
#include "kernel_common.h"
#include <linux/bpf.h>

static long sys_bpf(int cmd, union bpf_attr* attr) { return syscall(__NR_bpf, cmd, attr, sizeof *attr); }

int main(void) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_HASH;
  attr.key_size = 4;
  attr.value_size = 8;
  attr.max_entries = 16;
  int map = (int)sys_bpf(BPF_MAP_CREATE, &attr);
  if (map < 0) {
    fprintf(stderr, "bpf is not permitted here: %s\n", en());
    return 77;
  }
  for (unsigned key = 1; key <= 3; ++key) {
    unsigned long long value = key * 1000ull + 7;
    memset(&attr, 0, sizeof attr);
    attr.map_fd = map;
    attr.key = (unsigned long)&key;
    attr.value = (unsigned long)&value;
    CHECK(sys_bpf(BPF_MAP_UPDATE_ELEM, &attr) == 0);
  }
  unsigned key = 2;
  unsigned long long value = 0;
  memset(&attr, 0, sizeof attr);
  attr.map_fd = map;
  attr.key = (unsigned long)&key;
  attr.value = (unsigned long)&value;
  CHECK(sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr) == 0);
  printf("lookup 2: %llu\n", value);

  // Walk the keys: their order is the hash table's.
  unsigned sum = 0, count = 0, next = 0;
  void* at = NULL;
  for (;;) {
    memset(&attr, 0, sizeof attr);
    attr.map_fd = map;
    attr.key = (unsigned long)at;
    attr.next_key = (unsigned long)&next;
    if (sys_bpf(BPF_MAP_GET_NEXT_KEY, &attr) != 0) break;
    sum += next;
    ++count;
    key = next;
    at = &key;
  }
  printf("keys: %u, summing to %u\n", count, sum);

  struct bpf_map_info info;
  memset(&info, 0, sizeof info);
  memset(&attr, 0, sizeof attr);
  attr.info.bpf_fd = map;
  attr.info.info_len = sizeof info;
  attr.info.info = (unsigned long)&info;
  CHECK(sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) == 0);
  printf("map info: type %u, key %u, value %u, entries %u\n", info.type, info.key_size, info.value_size, info.max_entries);

  // A socket filter that returns 7, with the verifier's log.
  struct bpf_insn code[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 7},
      {.code = BPF_JMP | BPF_EXIT},
  };
  char log[4096] = "";
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insns = (unsigned long)code;
  attr.insn_cnt = 2;
  attr.license = (unsigned long)"GPL";
  attr.log_buf = (unsigned long)log;
  attr.log_size = sizeof log;
  attr.log_level = 2;
  int prog = (int)sys_bpf(BPF_PROG_LOAD, &attr);
  CHECK(prog >= 0);
  printf("verifier log: %s\n", strstr(log, "processed 2 insns") ? "processed 2 insns" : "other");

  unsigned char packet[64] = {0}, out[64];
  memset(&attr, 0, sizeof attr);
  attr.test.prog_fd = prog;
  attr.test.data_in = (unsigned long)packet;
  attr.test.data_size_in = sizeof packet;
  attr.test.data_out = (unsigned long)out;
  attr.test.data_size_out = sizeof out;
  attr.test.repeat = 1;
  long ran = sys_bpf(BPF_PROG_TEST_RUN, &attr);
  if (ran == 0) printf("test run: returned %u, %u bytes out\n", attr.test.retval, attr.test.data_size_out);
  else printf("test run: %s\n", en());

  memset(&attr, 0, sizeof attr);
  attr.map_fd = map;
  key = 9;
  attr.key = (unsigned long)&key;
  attr.value = (unsigned long)&value;
  CHECK(sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr) < 0 && errno == ENOENT);
  printf("lookup 9: %s\n", en());
  close(prog);
  close(map);
  return 0;
}
