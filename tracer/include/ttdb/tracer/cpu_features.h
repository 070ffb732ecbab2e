// The CPU features a recorded program could have used, so that replay on
// another CPU can say before it starts that one is missing, and the
// x86-64 baselines (psABI levels) a recording can hold glibc to, so that a
// trace made on one machine replays on a lesser one. cpuid cannot be
// trapped here (no CPUID faulting in VMs), so a program sees the real CPU;
// glibc's tunables are what choose its string functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ttdb {

// This CPU's features among those ttdb knows, by /proc/cpuinfo's names
// ("sse4_2", "avx2", "avx512f"...), in a fixed order.
std::vector<std::string> cpu_features();

struct CpuBaseline {
  std::string name;                   // "x86-64-v2"
  std::vector<std::string> features;  // what it requires beyond x86-64
  // GLIBC_TUNABLES' value that holds glibc to it on any CPU that meets it:
  // the features above it turned off, and cache sizes fixed (glibc picks
  // memcpy's strategies by them).
  std::string glibc_tunables;
};
// x86-64, x86-64-v2, x86-64-v3 or x86-64-v4; nothing for another name.
std::optional<CpuBaseline> cpu_baseline(const std::string& name);

// The entries of `wanted` that `have` lacks.
std::vector<std::string> missing_features(const std::vector<std::string>& wanted, const std::vector<std::string>& have);

}  // namespace ttdb
