#include "ttdb/tracer/nondet_insn.h"

#include <capstone/capstone.h>
#include <cpuid.h>
#include <x86intrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "ttdb/base/error.h"
#include "ttdb/base/log.h"
#include "ttdb/tracer/proc_maps.h"
#include "code_scan.h"
#include "site_cache.h"

namespace ttdb {
namespace {

// The user_regs_struct field for each x86 register number.
unsigned long long& gpr(Registers& regs, int number) {
  switch (number) {
    case 0: return regs.rax;
    case 1: return regs.rcx;
    case 2: return regs.rdx;
    case 3: return regs.rbx;
    case 4: return regs.rsp;
    case 5: return regs.rbp;
    case 6: return regs.rsi;
    case 7: return regs.rdi;
    case 8: return regs.r8;
    case 9: return regs.r9;
    case 10: return regs.r10;
    case 11: return regs.r11;
    case 12: return regs.r12;
    case 13: return regs.r13;
    case 14: return regs.r14;
    default: return regs.r15;
  }
}

// Decodes [66] [REX] 0f c7 /6|/7 (mod = 11) starting at code[at]; the length or 0.
std::optional<RandSite> decode_rand(std::uint64_t start, ByteView code, std::size_t at) {
  RandSite site;
  site.addr = start + at;
  std::size_t i = at;
  bool opsize16 = false;
  int rex = 0;
  if (i < code.size() && code[i] == 0x66) {
    opsize16 = true;
    ++i;
  }
  if (i < code.size() && (code[i] & 0xf0) == 0x40) rex = code[i++];
  if (i + 2 >= code.size() || code[i] != 0x0f || code[i + 1] != 0xc7) return std::nullopt;
  std::uint8_t modrm = code[i + 2];
  if ((modrm & 0xc0) != 0xc0) return std::nullopt;
  int op = (modrm >> 3) & 7;
  if (op != 6 && op != 7) return std::nullopt;
  site.insn = op == 7 ? NondetInsn::rdseed : NondetInsn::rdrand;
  site.reg = (modrm & 7) | ((rex & 1) << 3);
  site.width = (rex & 8) ? 64 : opsize16 ? 16 : 32;
  site.length = static_cast<int>(i + 3 - at);
  site.first_byte = code[at];
  return site;
}

// Addresses where capstone, sweeping linearly from `from` up to `to`,
// starts an instruction with one of the ids.
std::set<std::uint64_t> sweep(csh handle, std::uint64_t start, ByteView code, std::size_t from, std::size_t to,
                              std::initializer_list<unsigned> ids) {
  std::set<std::uint64_t> found;
  const std::uint8_t* bytes = code.data() + from;
  std::size_t size = to - from;
  std::uint64_t address = start + from;
  cs_insn* insn = cs_malloc(handle);
  while (size > 0 && cs_disasm_iter(handle, &bytes, &size, &address, insn)) {
    if (std::find(ids.begin(), ids.end(), insn->id) != ids.end()) found.insert(insn->address);
  }
  cs_free(insn, 1);
  return found;
}

// Bytes inside other instructions or data can look like the instruction we
// want. An address counts only when two linear sweeps from different points
// before it (x86 decoding resynchronises within a few instructions) both
// start such an instruction there.
class Confirmer {
 public:
  Confirmer() {
    TTDB_CHECK(cs_open(CS_ARCH_X86, CS_MODE_64, &handle_) == CS_ERR_OK, "capstone cannot open");
    cs_option(handle_, CS_OPT_SKIPDATA, CS_OPT_ON);
  }
  ~Confirmer() { cs_close(&handle_); }
  Confirmer(const Confirmer&) = delete;
  Confirmer& operator=(const Confirmer&) = delete;

  // The instructions with these ids that both sweeps see starting within
  // [offset - back, offset] of `code`.
  std::set<std::uint64_t> near(std::uint64_t start, ByteView code, std::size_t offset, std::initializer_list<unsigned> ids) {
    std::size_t end = std::min(code.size(), offset + 16);
    auto a = sweep(handle_, start, code, offset > 512 ? offset - 512 : 0, end, ids);
    auto b = sweep(handle_, start, code, offset > 2048 ? offset - 2048 : 0, end, ids);
    std::set<std::uint64_t> both;
    for (auto addr : a)
      if (b.count(addr)) both.insert(addr);
    return both;
  }

 private:
  csh handle_ = 0;
};

}  // namespace

std::optional<TscInsn> tsc_instruction_at(Tracee& tracee, RemotePtr pc) {
  std::uint8_t bytes[3] = {};
  if (tracee.read_some(pc, bytes, sizeof bytes) < 2) return std::nullopt;
  if (bytes[0] == 0x0f && bytes[1] == 0x31) return TscInsn{false, 2};
  if (bytes[0] == 0x0f && bytes[1] == 0x01 && bytes[2] == 0xf9) return TscInsn{true, 3};
  return std::nullopt;
}

TscValue host_tsc(const TscInsn& insn) {
  TscValue value;
  if (insn.rdtscp) {
    unsigned aux = 0;
    value.tsc = __rdtscp(&aux);
    value.aux = aux;
  } else {
    value.tsc = __rdtsc();
  }
  return value;
}

void emulate_tsc(Tracee& tracee, const TscInsn& insn, std::uint64_t at, const TscValue& value) {
  Registers regs = tracee.regs();
  regs.rax = value.tsc & 0xffffffffu;
  regs.rdx = value.tsc >> 32;
  if (insn.rdtscp) regs.rcx = value.aux;
  regs.rip = at + static_cast<unsigned>(insn.length);
  tracee.set_regs(regs);
}

namespace {

std::vector<RandSite> scan_for_rand(std::uint64_t start, ByteView code);

// Every exec of a process tree maps the same libraries at the same places:
// the scan of a module's code is made once for what names it (`Key`: its
// bytes' hash, or its file's, with its place), and remembered up to
// `capacity` of them. A scan that could not be made (nullopt) is not.
template <typename Key>
std::optional<std::vector<RandSite>> remembered(const Key& key, std::size_t capacity,
                                                const std::function<std::optional<std::vector<RandSite>>()>& scan) {
  static std::mutex lock;
  static std::map<Key, std::vector<RandSite>> scanned;
  {
    std::lock_guard held(lock);
    if (auto found = scanned.find(key); found != scanned.end()) return found->second;
  }
  auto sites = scan();
  std::lock_guard held(lock);
  if (sites && scanned.size() < capacity) scanned.emplace(key, *sites);
  return sites;
}

}  // namespace

std::vector<RandSite> find_rand_instructions(std::uint64_t start, ByteView code) {
  struct Key {
    std::uint64_t start, size;
    ContentHash hash;
    auto operator<=>(const Key&) const = default;
  };
  // The bytes name themselves in the site cache too: the program and its
  // loader, scanned at every exec, are scanned once on this machine (rdtsc's
  // many look-alikes in ld.so cost a short program's recording 10%).
  ContentHash hash = content_hash(code);
  return *remembered<Key>({start, code.size(), hash}, 256, [&] {
    if (auto known = site_cache().load_rand(hash, 0, code.size(), start)) return known;
    auto found = scan_for_rand(start, code);
    site_cache().store_rand(hash, 0, code.size(), start, found);
    return std::optional(found);
  });
}

namespace {

// rdtsc (0f 31) or rdtscp (0f 01 f9) at code[at], as a site.
std::optional<RandSite> decode_tsc(std::uint64_t start, ByteView code, std::size_t at) {
  RandSite site;
  site.addr = start + at;
  site.first_byte = code[at];
  if (at + 1 < code.size() && code[at] == 0x0f && code[at + 1] == 0x31) {
    site.insn = NondetInsn::rdtsc;
    site.length = 2;
    return site;
  }
  if (at + 2 < code.size() && code[at] == 0x0f && code[at + 1] == 0x01 && code[at + 2] == 0xf9) {
    site.insn = NondetInsn::rdtscp;
    site.length = 3;
    return site;
  }
  return std::nullopt;
}

std::vector<RandSite> scan_for_rand(std::uint64_t start, ByteView code) {
  // Cheap filter first: 0f c7 followed by a register-form /6 or /7 ModRM
  // (rdrand, rdseed, after up to two prefixes), 0f 31 (rdtsc), 0f 01 f9 (rdtscp).
  std::vector<std::size_t> opcodes;
  for (std::size_t i = 0; i + 1 < code.size(); ++i) {
    if (code[i] != 0x0f) continue;
    std::uint8_t second = code[i + 1], third = i + 2 < code.size() ? code[i + 2] : 0;
    if ((second == 0xc7 && third >= 0xf0) || second == 0x31 || (second == 0x01 && third == 0xf9)) opcodes.push_back(i);
  }
  if (opcodes.empty()) return {};

  Confirmer confirmer;
  std::vector<RandSite> confirmed;
  for (std::size_t offset : opcodes) {
    auto starts = confirmer.near(start, code, offset, {X86_INS_RDRAND, X86_INS_RDSEED, X86_INS_RDTSC, X86_INS_RDTSCP});
    if (code[offset + 1] != 0xc7) {
      if (starts.count(start + offset))
        if (auto site = decode_tsc(start, code, offset)) confirmed.push_back(*site);
      continue;
    }
    for (std::size_t back = 0; back <= std::min<std::size_t>(offset, 2); ++back) {
      if (!starts.count(start + offset - back)) continue;
      if (auto site = decode_rand(start, code, offset - back)) confirmed.push_back(*site);
      break;
    }
  }
  return confirmed;
}

}  // namespace

std::vector<std::uint64_t> find_loader_xsavec(std::uint64_t start, ByteView code) {
  // glibc (2.26 on) clears the save area's header, last its bytes 56 to 63
  // (`mov %rdx, 0x278(%rsp)`), then saves: `xsavec 0x40(%rsp)`.
  static constexpr std::uint8_t kPattern[] = {0x48, 0x89, 0x94, 0x24, 0x78, 0x02, 0x00, 0x00,
                                              0x0f, 0xc7, 0x64, 0x24, 0x40};
  std::vector<std::uint64_t> found;
  for (auto at = code.begin(); (at = std::search(at, code.end(), std::begin(kPattern), std::end(kPattern))) != code.end(); ++at)
    found.push_back(start + static_cast<std::uint64_t>(at - code.begin()) + 8);
  return found;
}

std::optional<std::uint64_t> find_syscall_instruction(std::uint64_t start, ByteView code) {
  Confirmer confirmer;
  for (std::size_t i = 0; i + 1 < code.size(); ++i) {
    if (code[i] != 0x0f || code[i + 1] != 0x05) continue;
    if (confirmer.near(start, code, i, {X86_INS_SYSCALL}).count(start + i)) return start + i;
  }
  return std::nullopt;
}

int RandPatcher::scan_and_patch(Tracee& tracee, std::uint64_t start, ByteView code) {
  return patch(tracee, find_rand_instructions(start, code));
}

int RandPatcher::scan_and_patch_file(Tracee& tracee, std::uint64_t start, std::uint64_t size, const ContentHash& file,
                                     std::uint64_t offset) {
  struct Key {
    std::uint64_t start, size, offset;
    ContentHash file;
    auto operator<=>(const Key&) const = default;
  };
  // The file names the bytes: they are read and scanned only the first
  // time, unless an earlier recording (or replay) found them already.
  const SiteCache& cache = site_cache();
  auto sites = remembered<Key>({start, size, offset, file}, 1024, [&]() -> std::optional<std::vector<RandSite>> {
    if (auto known = cache.load_rand(file, offset, size, start)) return known;
    auto code = tracee.try_read_bytes(RemotePtr(start), size);
    if (!code) return std::nullopt;
    auto found = scan_for_rand(start, *code);
    cache.store_rand(file, offset, size, start, found);
    return found;
  });
  return sites ? patch(tracee, *sites) : 0;
}

int RandPatcher::patch(Tracee& tracee, const std::vector<RandSite>& sites) {
  static constexpr const char* kNames[] = {"rdrand", "rdseed", "rdtsc", "rdtscp", "xsavec"};
  std::vector<const RandSite*> wanted;
  for (const auto& site : sites)
    if (!site.tsc() || tsc_) wanted.push_back(&site);
  std::sort(wanted.begin(), wanted.end(), [](const RandSite* a, const RandSite* b) { return a->addr < b->addr; });
  // The int3s of a page go in one write, and the pages' bytes are read in
  // one call: ld.so alone has 21 rdtsc sites, patched at every exec.
  struct Span {
    std::size_t first, last;  // wanted's sites in it
    Bytes bytes;
  };
  std::vector<Span> spans;
  for (std::size_t k = 0; k < wanted.size();) {
    std::size_t last = k;
    while (last + 1 < wanted.size() && wanted[last + 1]->addr / kPage == wanted[k]->addr / kPage) ++last;
    spans.push_back(Span{k, last, Bytes(wanted[last]->addr + 1 - wanted[k]->addr)});
    k = last + 1;
  }
  std::vector<Tracee::ReadPiece> reads;
  for (auto& span : spans) reads.push_back({RemotePtr(wanted[span.first]->addr), span.bytes});
  bool read = tracee.read_scattered(reads);
  int patched = 0;
  for (auto& span : spans) {
    std::uint64_t from = wanted[span.first]->addr;
    if (read)
      for (std::size_t i = span.first; i <= span.last; ++i) span.bytes[wanted[i]->addr - from] = kInt3;
    bool written = read && tracee.write_bytes(RemotePtr(from), span.bytes);
    // A site that cannot be written stays as it is.
    for (std::size_t i = span.first; i <= span.last; ++i) {
      const RandSite& site = *wanted[i];
      if (!written && !tracee.write_bytes(RemotePtr(site.addr), ByteView(&kInt3, 1))) continue;
      sites_[site.addr] = site;
      ++patched;
      TTDB_LOG(record, "{} at {:#x} patched with int3", kNames[static_cast<int>(site.insn)], site.addr);
    }
  }
  return patched;
}

int RandPatcher::patch_loader_xsave(Tracee& tracee, const std::vector<Mapping>& maps) {
  struct Key {
    std::uint64_t start, end, offset, inode;
    dev_t dev;
    auto operator<=>(const Key&) const = default;
  };
  std::vector<RandSite> sites;
  for (const auto& m : maps) {
    std::string_view name = std::string_view(m.path).substr(m.path.rfind('/') + 1);
    if (!m.executable || !name.starts_with("ld-")) continue;
    // Every exec maps the same loader at the same place: its code is read
    // and searched once.
    auto found = remembered<Key>({m.start, m.end, m.offset, m.inode, m.dev}, 64, [&]() -> std::optional<std::vector<RandSite>> {
      auto code = tracee.try_read_bytes(RemotePtr(m.start), m.end - m.start);
      if (!code) return std::nullopt;
      std::vector<RandSite> out;
      for (std::uint64_t addr : find_loader_xsavec(m.start, *code)) out.push_back(RandSite{addr, 5, NondetInsn::xsavec, 0, 0, 0x0f});
      return out;
    });
    if (found) sites.insert(sites.end(), found->begin(), found->end());
  }
  return patch(tracee, sites);
}

namespace {

// Where XSAVEC's compacted layout puts each state component from 2 up of
// `components`, and its size, as CPUID leaf 0xd describes them; and where
// the kernel's (standard) layout has it. {compacted offset, size,
// standard offset} by component; the end of the area last.
struct XsaveLayout {
  struct Part {
    int component;
    std::uint32_t compacted, size, standard;
  };
  std::vector<Part> parts;
  std::uint32_t end = 0;
};

// XCR0: the state components the kernel enabled (the same while ttdb runs).
std::uint64_t enabled_components() {
  static const std::uint64_t enabled = [] {
    std::uint32_t low = 0, high = 0;
    asm volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    return std::uint64_t{high} << 32 | low;
  }();
  return enabled;
}

XsaveLayout compacted_layout(std::uint64_t components) {
  // Each enabled component's size, standard offset and alignment, asked
  // once: in a virtual machine every cpuid is a trip to the hypervisor, and
  // this runs at every lazy binding.
  struct Component {
    std::uint32_t size = 0, standard = 0;
    bool aligned = false;
  };
  static const std::array<Component, 63> described = [] {
    std::array<Component, 63> out{};
    std::uint64_t enabled = enabled_components();
    for (int i = 2; i < 63; ++i) {
      if (!(enabled & (1ull << i))) continue;
      unsigned size = 0, standard = 0, flags = 0, unused = 0;
      __cpuid_count(0xd, i, size, standard, flags, unused);
      out[static_cast<std::size_t>(i)] = {size, standard, (flags & 2) != 0};
    }
    return out;
  }();
  XsaveLayout layout;
  std::uint32_t at = 576;  // the legacy region and the header
  for (int i = 2; i < 63; ++i) {
    if (!(components & (1ull << i))) continue;
    const Component& c = described[static_cast<std::size_t>(i)];
    if (c.aligned) at = (at + 63) & ~63u;  // aligned to 64 bytes when compacted
    layout.parts.push_back({i, at, c.size, c.standard});
    at += c.size;
  }
  layout.end = at;
  return layout;
}

// The MXCSR bits this CPU supports, as FXSAVE and XSAVE write them.
std::uint32_t mxcsr_mask() {
  static const std::uint32_t mask = [] {
    alignas(64) std::uint8_t area[512] = {};
    asm volatile("fxsave64 %0" : "=m"(area));
    std::uint32_t value = 0;
    std::memcpy(&value, area + 28, 4);
    return value ? value : 0xffbf;  // (0 means the default mask)
  }();
  return mask;
}

}  // namespace

std::optional<std::pair<std::uint64_t, std::uint64_t>> RandPatcher::emulate_xsavec(Tracee& tracee, const RandSite& site) {
  Registers regs = tracee.regs();
  std::uint64_t area = regs.rsp + 0x40;  // the only form find_loader_xsavec finds
  std::uint64_t wanted = ((regs.rdx & 0xffffffffu) << 32 | (regs.rax & 0xffffffffu)) & enabled_components();
  Bytes state = tracee.xstate();  // the kernel's layout, every component's values (initial ones too)
  XsaveLayout layout = compacted_layout(wanted);
  // (x87's instruction and data pointers would take the 32-bit form glibc's
  // trampolines never ask for: the CPU runs those.)
  if (area % 64 != 0 || state.size() < 576 || (wanted & 1)) return std::nullopt;
  auto saved = tracee.try_read_bytes(RemotePtr(area), layout.end);
  if (!saved) return std::nullopt;
  Bytes& out = *saved;
  auto copy = [&](std::uint32_t to, std::uint32_t from, std::uint32_t size) {
    if (from + size <= state.size()) std::memcpy(out.data() + to, state.data() + from, size);
  };
  if (wanted & 6) {  // MXCSR with SSE or AVX, and this CPU's mask of it (the kernel's initial state may have none)
    copy(24, 24, 4);
    std::uint32_t mask = mxcsr_mask();
    std::memcpy(out.data() + 28, &mask, 4);
  }
  if (wanted & 2) copy(160, 160, 256);  // xmm0-15
  std::uint64_t header[2] = {wanted, wanted | 1ull << 63};  // XSTATE_BV: all in use; XCOMP_BV
  std::memcpy(out.data() + 512, header, sizeof header);
  for (const auto& part : layout.parts) copy(part.compacted, part.standard, part.size);
  if (!tracee.write_bytes(RemotePtr(area), out)) return std::nullopt;
  regs.rip = site.addr + static_cast<unsigned>(site.length);
  tracee.set_regs(regs);
  return std::pair{area, area + layout.end};
}

void RandPatcher::unpatch_if(Tracee& tracee, const std::function<bool(const RandSite&)>& which) {
  for (auto it = sites_.begin(); it != sites_.end();) {
    if (!which(it->second)) {
      ++it;
      continue;
    }
    tracee.write_value(RemotePtr(it->first), it->second.first_byte);
    it = sites_.erase(it);
  }
}

void RandPatcher::unpatch_tsc(Tracee& tracee) {
  unpatch_if(tracee, [](const RandSite& site) { return site.tsc(); });
}

void RandPatcher::arm_xsave(Tracee& tracee, bool armed) {
  for (const auto& [addr, site] : sites_)
    if (site.xsave()) tracee.write_value(RemotePtr(addr), armed ? kInt3 : site.first_byte);
}

void RandPatcher::unpatch_xsave(Tracee& tracee) {
  unpatch_if(tracee, [](const RandSite& site) { return site.xsave(); });
}

bool RandPatcher::patches_xsave() const {
  return std::any_of(sites_.begin(), sites_.end(), [](const auto& entry) { return entry.second.xsave(); });
}

int RandPatcher::scan_process(Tracee& tracee, const std::vector<Mapping>& maps,
                              const std::map<std::string, ContentHash>& hashes) {
  int patched = 0;
  for (const auto& m : maps) {
    if (!m.executable || m.path == "[vdso]" || m.path == "[vsyscall]") continue;
    if (auto hash = hashes.find(m.path); hash != hashes.end())
      patched += scan_and_patch_file(tracee, m.start, m.end - m.start, hash->second, m.offset);
    else if (auto code = tracee.try_read_bytes(RemotePtr(m.start), m.end - m.start))
      patched += scan_and_patch(tracee, m.start, *code);
  }
  return patched;
}

void RandPatcher::forget(std::uint64_t start, std::uint64_t end) {
  std::erase_if(sites_, [&](const auto& entry) { return entry.first >= start && entry.first < end; });
}

void RandPatcher::remapped(std::uint64_t from, std::uint64_t old_size, std::uint64_t new_size, std::uint64_t to) {
  if (new_size < old_size) forget(from + new_size, from + old_size);
  if (from == to) return;
  std::vector<RandSite> going;
  for (auto it = sites_.begin(); it != sites_.end();) {
    if (it->first < from || it->first - from >= new_size) {
      ++it;
      continue;
    }
    going.push_back(it->second);
    it = sites_.erase(it);
  }
  for (RandSite& site : going) {
    site.addr = site.addr - from + to;
    sites_[site.addr] = site;
  }
}

const RandSite* RandPatcher::site_for_trap(std::uint64_t pc) const {
  auto found = sites_.find(pc - 1);
  return found == sites_.end() ? nullptr : &found->second;
}

void RandPatcher::unpatch_all(Tracee& tracee) {
  for (const auto& [addr, site] : sites_) tracee.write_value(RemotePtr(addr), site.first_byte);
  sites_.clear();
}

std::optional<std::uint8_t> RandPatcher::original_byte(std::uint64_t addr) const {
  auto found = sites_.find(addr);
  if (found == sites_.end()) return std::nullopt;
  return found->second.first_byte;
}

std::uint64_t RandPatcher::host_random(const RandSite& site) {
  unsigned long long value = 0;
  unsigned char ok = 0;
  for (int attempt = 0; attempt < 100 && !ok; ++attempt) {
    if (site.seed())
      asm volatile("rdseed %0; setc %1" : "=r"(value), "=qm"(ok) : : "cc");
    else
      asm volatile("rdrand %0; setc %1" : "=r"(value), "=qm"(ok) : : "cc");
  }
  return value;
}

void RandPatcher::emulate(Tracee& tracee, const RandSite& site, std::uint64_t value) {
  Registers regs = tracee.regs();
  auto& reg = gpr(regs, site.reg);
  if (site.width == 64) reg = value;
  else if (site.width == 32) reg = value & 0xffffffffu;  // a 32-bit write clears the top half
  else reg = (reg & ~0xffffull) | (value & 0xffff);
  // CF=1 (success); OF, SF, ZF, AF and PF cleared, as the instruction does.
  constexpr unsigned long long kCF = 1, kPF = 4, kAF = 16, kZF = 64, kSF = 128, kOF = 2048;
  regs.eflags = (regs.eflags & ~(kPF | kAF | kZF | kSF | kOF)) | kCF;
  regs.rip = site.addr + static_cast<unsigned>(site.length);
  tracee.set_regs(regs);
}

}  // namespace ttdb
