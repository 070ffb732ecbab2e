#include "ttdb/tracer/cpu_features.h"

#include <cpuid.h>

#include <algorithm>
#include <array>
#include <map>

namespace ttdb {
namespace {

enum Reg { eax, ebx, ecx, edx };

struct Feature {
  const char* name;        // as /proc/cpuinfo names it
  unsigned leaf, subleaf;  // where cpuid reports it
  Reg reg;
  int bit;
  const char* glibc;       // glibc.cpu.hwcaps' name, when glibc lets it be turned off
};

constexpr Feature kFeatures[] = {
    {"pni", 1, 0, ecx, 0, nullptr},  // SSE3
    {"pclmulqdq", 1, 0, ecx, 1, nullptr},
    {"ssse3", 1, 0, ecx, 9, "SSSE3"},
    {"fma", 1, 0, ecx, 12, "FMA"},
    {"cx16", 1, 0, ecx, 13, nullptr},
    {"sse4_1", 1, 0, ecx, 19, "SSE4_1"},
    {"sse4_2", 1, 0, ecx, 20, "SSE4_2"},
    {"movbe", 1, 0, ecx, 22, "MOVBE"},
    {"popcnt", 1, 0, ecx, 23, "POPCNT"},
    {"aes", 1, 0, ecx, 25, nullptr},
    {"xsave", 1, 0, ecx, 26, "XSAVE"},
    {"avx", 1, 0, ecx, 28, "AVX"},
    {"f16c", 1, 0, ecx, 29, nullptr},
    {"rdrand", 1, 0, ecx, 30, nullptr},
    {"bmi1", 7, 0, ebx, 3, "BMI1"},
    {"avx2", 7, 0, ebx, 5, "AVX2"},
    {"bmi2", 7, 0, ebx, 8, "BMI2"},
    {"erms", 7, 0, ebx, 9, "ERMS"},
    {"rtm", 7, 0, ebx, 11, "RTM"},
    {"avx512f", 7, 0, ebx, 16, "AVX512F"},
    {"avx512dq", 7, 0, ebx, 17, "AVX512DQ"},
    {"rdseed", 7, 0, ebx, 18, nullptr},
    {"adx", 7, 0, ebx, 19, nullptr},
    {"avx512ifma", 7, 0, ebx, 21, nullptr},
    {"avx512pf", 7, 0, ebx, 26, "AVX512PF"},
    {"avx512er", 7, 0, ebx, 27, "AVX512ER"},
    {"avx512cd", 7, 0, ebx, 28, "AVX512CD"},
    {"sha_ni", 7, 0, ebx, 29, nullptr},
    {"avx512bw", 7, 0, ebx, 30, "AVX512BW"},
    {"avx512vl", 7, 0, ebx, 31, "AVX512VL"},
    {"avx512vbmi", 7, 0, ecx, 1, nullptr},
    {"avx512_vbmi2", 7, 0, ecx, 6, nullptr},
    {"gfni", 7, 0, ecx, 8, nullptr},
    {"vaes", 7, 0, ecx, 9, nullptr},
    {"vpclmulqdq", 7, 0, ecx, 10, nullptr},
    {"avx512_vnni", 7, 0, ecx, 11, nullptr},
    {"avx512_bitalg", 7, 0, ecx, 12, nullptr},
    {"avx512_vpopcntdq", 7, 0, ecx, 14, nullptr},
    {"fsrm", 7, 0, edx, 4, nullptr},
    {"avx512_fp16", 7, 0, edx, 23, nullptr},
    {"amx_tile", 7, 0, edx, 24, nullptr},
    {"lahf_lm", 0x80000001, 0, ecx, 0, nullptr},
    {"abm", 0x80000001, 0, ecx, 5, "LZCNT"},  // lzcnt
    {"sse4a", 0x80000001, 0, ecx, 6, nullptr},
    {"xop", 0x80000001, 0, ecx, 11, nullptr},
    {"fma4", 0x80000001, 0, ecx, 16, "FMA4"},
};

// The psABI's levels, each adding to the one before.
constexpr const char* kV2[] = {"cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"};
constexpr const char* kV3[] = {"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"};
constexpr const char* kV4[] = {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"};

// Each leaf asked once: in a virtual machine every cpuid is a trip to the hypervisor.
class CpuidLeaves {
 public:
  bool has(const Feature& f) {
    auto found = leaves_.find({f.leaf, f.subleaf});
    if (found == leaves_.end()) found = leaves_.emplace(std::make_pair(f.leaf, f.subleaf), ask(f.leaf, f.subleaf)).first;
    return (found->second[f.reg] >> f.bit) & 1;
  }

 private:
  static std::array<unsigned, 4> ask(unsigned leaf, unsigned subleaf) {
    std::array<unsigned, 4> regs{};
    if (__get_cpuid_max(leaf & 0x80000000, nullptr) >= leaf)
      __cpuid_count(leaf, subleaf, regs[eax], regs[ebx], regs[ecx], regs[edx]);
    return regs;
  }
  std::map<std::pair<unsigned, unsigned>, std::array<unsigned, 4>> leaves_;
};

}  // namespace

std::vector<std::string> cpu_features() {
  // The CPU does not change under a running ttdb.
  static const std::vector<std::string> features = [] {
    CpuidLeaves cpuid;
    std::vector<std::string> out;
    for (const auto& f : kFeatures)
      if (cpuid.has(f)) out.emplace_back(f.name);
    return out;
  }();
  return features;
}

std::optional<CpuBaseline> cpu_baseline(const std::string& name) {
  int level = name == "x86-64" ? 1 : name == "x86-64-v2" ? 2 : name == "x86-64-v3" ? 3 : name == "x86-64-v4" ? 4 : 0;
  if (!level) return std::nullopt;
  CpuBaseline baseline{name, {}, {}};
  auto add = [&](const auto& names, int from) {
    if (level >= from) baseline.features.insert(baseline.features.end(), std::begin(names), std::end(names));
  };
  add(kV2, 2);
  add(kV3, 3);
  add(kV4, 4);
  std::string off;
  for (const auto& f : kFeatures) {
    bool allowed = std::find(baseline.features.begin(), baseline.features.end(), f.name) != baseline.features.end();
    if (f.glibc && !allowed) off += std::string(off.empty() ? "" : ",") + "-" + f.glibc;
  }
  // AVX needs the OS's XSAVE support: off with AVX.
  if (level < 3) off += ",-OSXSAVE";
  baseline.glibc_tunables = "glibc.cpu.hwcaps=" + off +
                            ":glibc.cpu.x86_data_cache_size=0x8000:glibc.cpu.x86_shared_cache_size=0x100000"
                            ":glibc.cpu.x86_non_temporal_threshold=0xc0000:glibc.cpu.x86_rep_movsb_threshold=0x800"
                            ":glibc.cpu.x86_rep_stosb_threshold=0x800";
  return baseline;
}

std::vector<std::string> missing_features(const std::vector<std::string>& wanted, const std::vector<std::string>& have) {
  std::vector<std::string> out;
  for (const auto& f : wanted)
    if (std::find(have.begin(), have.end(), f) == have.end()) out.push_back(f);
  return out;
}

}  // namespace ttdb
