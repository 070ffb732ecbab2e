// A process's memory map, as /proc/PID/maps tells it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ttdb {

struct Mapping {
  std::uint64_t start = 0, end = 0;
  bool readable = false, writable = false, executable = false, shared = false;
  std::uint64_t offset = 0;
  std::uint64_t inode = 0;
  dev_t dev = 0;  // the file's device, as stat() gives it
  std::string path;  // file path, "[stack]", "[vdso]", or empty
};

std::vector<Mapping> read_maps(pid_t pid);
// Adds to `maps` (sorted, as read_maps gives them) memory ttdb itself mapped
// since it read them: [start, end), with `prot`'s permissions.
void add_mapping(std::vector<Mapping>& maps, std::uint64_t start, std::uint64_t end, int prot);

// The VmFlags of /proc/PID/smaps for the mapping that holds `addr` ("mw":
// it may be made writable), if there is one.
std::optional<std::vector<std::string>> mapping_flags(pid_t pid, std::uint64_t addr);

// The fields of /proc/TID/stat after the command's name (state, ppid...),
// separated by spaces; empty when the task is gone.
std::string stat_fields(pid_t tid);
// A task's state letter from /proc/TID/stat ('R' running, 'S' sleeping,
// 't' stopped by its tracer...), or 0 when it is gone.
char task_state(pid_t tid);

// Memory a fork leaves out or empties: a range with its madvise advice
// (MADV_DONTFORK or MADV_WIPEONFORK), from the VmFlags of /proc/PID/smaps.
struct ForkAdvice {
  std::uint64_t start = 0, end = 0;
  int advice = 0;
};
std::vector<ForkAdvice> read_fork_advice(pid_t pid);
std::optional<Mapping> mapping_containing(const std::vector<Mapping>& maps, std::uint64_t addr);

// A descriptor's file position, as /proc/PID/fdinfo shows it; nullopt when unreadable.
std::optional<std::uint64_t> fd_position(pid_t tid, int fd);

}  // namespace ttdb
