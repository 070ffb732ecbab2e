#include "bpf_model.h"

#include <linux/bpf.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <fstream>

#include "ttdb/tracer/syscall_memory.h"

namespace ttdb {
namespace {

// A map's key and value sizes, as /proc/PID/fdinfo shows them for its descriptor.
struct MapShape {
  std::uint64_t key_size = 0, value_size = 0;
};

std::uint64_t possible_cpus() {
  // "0-3" or "0": per-CPU maps hold a value for each possible CPU.
  std::ifstream in("/sys/devices/system/cpu/possible");
  std::string text;
  in >> text;
  auto dash = text.rfind('-');
  std::string last = dash == std::string::npos ? text : text.substr(dash + 1);
  return last.empty() ? 1 : std::stoull(last) + 1;
}

MapShape map_shape(pid_t tid, std::uint32_t fd) {
  std::ifstream in(fmt::format("/proc/{}/fdinfo/{}", tid, fd));
  std::string key;
  std::uint64_t type = 0;
  MapShape shape;
  while (in >> key) {
    if (key == "map_type:") in >> type;
    else if (key == "key_size:") in >> shape.key_size;
    else if (key == "value_size:") in >> shape.value_size;
  }
  bool per_cpu = type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
                 type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
  if (per_cpu) shape.value_size = (shape.value_size + 7) / 8 * 8 * possible_cpus();
  return shape;
}

}  // namespace

void capture_bpf(Tracee& tracee, const std::uint64_t* a, std::int64_t ret, std::vector<trace::MemWrite>& out) {
  std::uint64_t cmd = a[0], at = a[1];
  if (!at) return;
  union bpf_attr attr {};
  std::size_t size = std::min<std::uint64_t>(a[2], sizeof attr);
  if (tracee.read_some(RemotePtr(at), &attr, size) != size) return;
  // The kernel writes some answers into the block itself (a test run's
  // result, an info's length, a query's count, the next id).
  capture_memory(tracee, at, size, out);
  auto buffer = [&](std::uint64_t addr, std::uint64_t bytes) {
    if (addr && bytes) capture_memory(tracee, addr, std::min<std::uint64_t>(bytes, 1 << 24), out);
  };
  switch (cmd) {
    case BPF_PROG_LOAD:
      if (attr.log_level) buffer(attr.log_buf, attr.log_size);
      break;
    case BPF_BTF_LOAD:
      if (attr.btf_log_level) buffer(attr.btf_log_buf, attr.btf_log_size);
      break;
    default: break;
  }
  if (ret < 0) return;
  switch (cmd) {
    case BPF_MAP_LOOKUP_ELEM:
    case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
      buffer(attr.value, map_shape(tracee.tid(), attr.map_fd).value_size);
      break;
    case BPF_MAP_GET_NEXT_KEY: buffer(attr.next_key, map_shape(tracee.tid(), attr.map_fd).key_size); break;
    case BPF_OBJ_GET_INFO_BY_FD: buffer(attr.info.info, attr.info.info_len); break;
    case BPF_PROG_TEST_RUN:
      buffer(attr.test.data_out, attr.test.data_size_out);
      buffer(attr.test.ctx_out, attr.test.ctx_size_out);
      break;
    case BPF_PROG_QUERY: buffer(attr.query.prog_ids, std::uint64_t{attr.query.prog_cnt} * 4); break;
    default: break;
  }
}

std::optional<std::string> bpf_unrecordable(std::uint64_t cmd) {
  switch (cmd) {
    case BPF_MAP_LOOKUP_BATCH:
    case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
    case BPF_MAP_UPDATE_BATCH:
    case BPF_MAP_DELETE_BATCH:
      return fmt::format("bpf command {} (a batch of map elements), whose effect on memory ttdb does not follow", cmd);
    default: return std::nullopt;
  }
}

}  // namespace ttdb
