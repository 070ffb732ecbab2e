#include "ttdb/tracer/exec_stack.h"

#include <asm/unistd_64.h>
#include <elf.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <tuple>

#include <fmt/format.h>

#include "code_scan.h"
#include "site_cache.h"
#include "ttdb/base/error.h"
#include "ttdb/tracer/nondet_insn.h"
#include "ttdb/tracer/proc_maps.h"

namespace ttdb {

namespace {

// The vDSO's functions by name (each has a `__vdso_` twin at the same
// address): the syscall each stands for, or -1 for getrandom, whose
// opaque-state interface has no syscall equivalent.
struct VdsoFunction {
  std::string_view name;
  long nr;
};
constexpr VdsoFunction kVdsoFunctions[] = {
    {"clock_gettime", __NR_clock_gettime}, {"gettimeofday", __NR_gettimeofday}, {"time", __NR_time},
    {"clock_getres", __NR_clock_getres},   {"getcpu", __NR_getcpu},             {"getrandom", -1},
};

// mov $nr, %eax; syscall; cmp $-4095, %rax; ret. The `syscall` and the `cmp`
// after it are the shape of a glibc syscall site, which the syscall buffer patches.
constexpr std::size_t kStubSite = 5;
constexpr std::size_t kStubSize = 14;
std::array<std::uint8_t, kStubSize> syscall_stub(long nr) {
  std::array<std::uint8_t, kStubSize> code = {0xb8, 0, 0, 0, 0, 0x0f, 0x05, 0x48, 0x3d, 0x01, 0xf0, 0xff, 0xff, 0xc3};
  auto n = static_cast<std::uint32_t>(nr);
  std::memcpy(&code[1], &n, 4);
  return code;
}
// mov $-ENOSYS, %rax; ret
constexpr std::uint8_t kEnosysStub[] = {0x48, 0xc7, 0xc0, 0xda, 0xff, 0xff, 0xff, 0xc3};

// A table of the image, if it lies inside it.
template <typename T>
std::optional<std::vector<T>> table_at(ByteView image, std::uint64_t offset, std::uint64_t count) {
  if (offset > image.size() || count > (image.size() - offset) / sizeof(T)) return std::nullopt;
  std::vector<T> out(count);
  std::memcpy(out.data(), image.data() + offset, count * sizeof(T));
  return out;
}

struct FoundFunction {
  std::uint64_t offset, size;
  const VdsoFunction* function;
};

// Where each of kVdsoFunctions is in the vDSO image (offsets from its
// start, which is where it is linked), from its dynamic symbol table.
std::vector<FoundFunction> vdso_functions(ByteView image) {
  std::vector<FoundFunction> found;
  Elf64_Ehdr header;
  if (image.size() < sizeof header) return found;
  std::memcpy(&header, image.data(), sizeof header);
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_shentsize != sizeof(Elf64_Shdr)) return found;
  auto sections = table_at<Elf64_Shdr>(image, header.e_shoff, header.e_shnum);
  if (!sections) return found;
  for (const auto& section : *sections) {
    if (section.sh_type != SHT_DYNSYM || section.sh_link >= sections->size()) continue;
    const auto& strings = (*sections)[section.sh_link];
    auto symbols = table_at<Elf64_Sym>(image, section.sh_offset, section.sh_size / sizeof(Elf64_Sym));
    if (!symbols || strings.sh_offset > image.size()) continue;
    std::string_view names(reinterpret_cast<const char*>(image.data()) + strings.sh_offset,
                           std::min<std::uint64_t>(strings.sh_size, image.size() - strings.sh_offset));
    for (const auto& symbol : *symbols) {
      if (ELF64_ST_TYPE(symbol.st_info) != STT_FUNC || symbol.st_name >= names.size()) continue;
      std::string_view name = names.substr(symbol.st_name);
      name = name.substr(0, name.find('\0'));
      if (name.starts_with("__vdso_")) name.remove_prefix(7);
      for (const auto& function : kVdsoFunctions) {
        std::size_t need = function.nr < 0 ? sizeof kEnosysStub : kStubSize;
        if (name != function.name || symbol.st_size < need || symbol.st_value > image.size() - need) continue;
        if (std::none_of(found.begin(), found.end(), [&](const auto& f) { return f.offset == symbol.st_value; }))
          found.push_back({symbol.st_value, symbol.st_size, &function});
      }
    }
  }
  return found;
}

// Traces of format 5 and before (VdsoTreatment::hidden).
void hide_vdso_functions(std::span<std::uint8_t> image) {
  // Same lengths, so that no offset in the image moves.
  static const std::pair<std::string_view, std::string_view> kRenames[] = {
      {"__vdso_", "__ttdb_"}, {"LINUX_2.6", "TTDB__2.6"}, {"LINUX_2.5", "TTDB__2.5"}};
  for (const auto& [from, to] : kRenames) {
    auto begin = reinterpret_cast<char*>(image.data());
    std::string_view text(begin, image.size());
    for (auto at = text.find(from); at != std::string_view::npos; at = text.find(from, at + from.size()))
      std::copy(to.begin(), to.end(), begin + at);
  }
}

// A `syscall` instruction of the image outside [skip.first, skip.second) ranges.
std::optional<std::uint64_t> syscall_outside(std::uint64_t start, ByteView image,
                                             const std::vector<std::pair<std::uint64_t, std::uint64_t>>& skip) {
  for (std::size_t from = 0; from < image.size();) {
    auto insn = find_syscall_instruction(start + from, image.subspan(from));
    if (!insn) return std::nullopt;
    if (std::none_of(skip.begin(), skip.end(), [&](const auto& r) { return *insn >= r.first && *insn < r.second; }))
      return insn;
    from = *insn - start + 2;
  }
  return std::nullopt;
}

// Where the image's ELF file ends (the mapping is whole pages): the
// bytes after it are free.
std::uint64_t elf_end(ByteView image) {
  Elf64_Ehdr header;
  if (image.size() < sizeof header) return image.size();
  std::memcpy(&header, image.data(), sizeof header);
  std::uint64_t end = header.e_shoff + std::uint64_t{header.e_shnum} * header.e_shentsize;
  if (auto segments = table_at<Elf64_Phdr>(image, header.e_phoff, header.e_phnum))
    for (const auto& segment : *segments) end = std::max(end, segment.p_offset + segment.p_filesz);
  return std::min<std::uint64_t>(end, image.size());
}

// The function at `offset` (`size` bytes) of the image, entered elsewhere:
// its first instructions, as many as the stub covers, moved to `to` (an
// offset of the same image) with their rip-relative operands adjusted, then
// a jump to the instruction after them. Nothing when one of them branches,
// or when a branch of the function lands among them.
std::optional<Bytes> moved_entry(ByteView image, std::uint64_t offset, std::uint64_t size, std::uint64_t to) {
  csh handle = 0;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return std::nullopt;
  cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
  Sweep sweep = sweep_function(handle, image, offset, std::min<std::uint64_t>(offset + size, image.size()));
  Bytes moved;
  const std::uint8_t* bytes = image.data() + offset;
  std::size_t left = std::min<std::uint64_t>(size, image.size() - offset);
  std::uint64_t address = offset;
  cs_insn* insn = cs_malloc(handle);
  bool movable = true;
  while (movable && moved.size() < kStubSize && cs_disasm_iter(handle, &bytes, &left, &address, insn)) {
    if (insn->address != offset && sweep.targeted(insn->address)) movable = false;
    for (std::uint8_t group : {CS_GRP_JUMP, CS_GRP_CALL, CS_GRP_RET, CS_GRP_INT, CS_GRP_IRET, CS_GRP_BRANCH_RELATIVE})
      if (cs_insn_group(handle, insn, group)) movable = false;
    std::size_t at = moved.size();
    moved.insert(moved.end(), insn->bytes, insn->bytes + insn->size);
    const cs_x86& x86 = insn->detail->x86;
    for (int i = 0; movable && i < x86.op_count; ++i) {
      if (x86.operands[i].type != X86_OP_MEM || x86.operands[i].mem.base != X86_REG_RIP) continue;
      std::int64_t disp = x86.operands[i].mem.disp + static_cast<std::int64_t>(insn->address) -
                          static_cast<std::int64_t>(to + at);
      if (x86.encoding.disp_size != 4 || disp != static_cast<std::int32_t>(disp)) movable = false;
      auto disp32 = static_cast<std::int32_t>(disp);
      if (movable) std::memcpy(moved.data() + at + x86.encoding.disp_offset, &disp32, 4);
    }
  }
  cs_free(insn, 1);
  cs_close(&handle);
  if (!movable || moved.size() < kStubSize) return std::nullopt;
  // jmp rel32 to the first instruction not moved
  std::int64_t rel = static_cast<std::int64_t>(offset + moved.size()) - static_cast<std::int64_t>(to + moved.size() + 5);
  auto rel32 = static_cast<std::int32_t>(rel);
  moved.push_back(0xe9);
  moved.insert(moved.end(), reinterpret_cast<const std::uint8_t*>(&rel32), reinterpret_cast<const std::uint8_t*>(&rel32) + 4);
  return moved;
}

// The vDSO as `how` treats it: its new bytes, the `syscall`s of its
// rewritten functions, a `syscall` of its own code, and the functions'
// moved entries.
struct TreatedVdso {
  Bytes image;
  std::vector<std::uint64_t> sites;
  std::uint64_t syscall = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> clocks;  // {stub's site, moved entry}
};

// The functions whose moved entries the syscall buffer calls while
// recording (the clock reads): what they compute replay takes from the
// recording, as for their syscalls.
bool reads_clock(long nr) { return nr == __NR_clock_gettime || nr == __NR_gettimeofday || nr == __NR_time; }

TreatedVdso treated(std::uint64_t start, const Bytes& original, VdsoTreatment how) {
  TreatedVdso result{original, {}, 0, {}};
  std::vector<std::pair<std::uint64_t, std::uint64_t>> rewritten;
  if (how == VdsoTreatment::hidden) {
    hide_vdso_functions(result.image);
  } else {
    std::uint64_t spare = (elf_end(original) + 15) & ~std::uint64_t{15};
    for (const auto& [offset, size, function] : vdso_functions(original)) {
      std::uint64_t addr = start + offset;
      auto at = result.image.begin() + static_cast<std::ptrdiff_t>(offset);
      if (function->nr < 0) {
        std::copy(std::begin(kEnosysStub), std::end(kEnosysStub), at);
        rewritten.emplace_back(addr, addr + sizeof kEnosysStub);
        continue;
      }
      auto moved = reads_clock(function->nr) ? moved_entry(original, offset, size, spare) : std::nullopt;
      if (moved && spare + moved->size() <= result.image.size()) {
        std::copy(moved->begin(), moved->end(), result.image.begin() + static_cast<std::ptrdiff_t>(spare));
        result.clocks.emplace_back(addr + kStubSite, start + spare);
        spare = (spare + moved->size() + 15) & ~std::uint64_t{15};
      }
      auto stub = syscall_stub(function->nr);
      std::copy(stub.begin(), stub.end(), at);
      rewritten.emplace_back(addr, addr + kStubSize);
      result.sites.push_back(addr + kStubSite);
    }
  }
  result.syscall = syscall_outside(start, original, rewritten).value_or(0);
  return result;
}

// A treatment as the site cache keeps it: the image, then the sites, the
// syscall and the clocks, as counts and 64-bit words.
Bytes serialized(const TreatedVdso& vdso) {
  Bytes out;
  auto word = [&](std::uint64_t value) {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(&value);
    out.insert(out.end(), bytes, bytes + sizeof value);
  };
  word(vdso.image.size());
  out.insert(out.end(), vdso.image.begin(), vdso.image.end());
  word(vdso.sites.size());
  for (std::uint64_t site : vdso.sites) word(site);
  word(vdso.syscall);
  word(vdso.clocks.size());
  for (const auto& [site, entry] : vdso.clocks) {
    word(site);
    word(entry);
  }
  return out;
}

// nullopt unless `bytes` is a whole treatment of an image the size of `original`.
std::optional<TreatedVdso> deserialized(ByteView bytes, const Bytes& original) {
  std::size_t at = 0;
  auto word = [&]() -> std::optional<std::uint64_t> {
    std::uint64_t value;
    if (bytes.size() - at < sizeof value) return std::nullopt;
    std::memcpy(&value, bytes.data() + at, sizeof value);
    at += sizeof value;
    return value;
  };
  TreatedVdso vdso;
  auto size = word();
  if (!size || *size != original.size() || bytes.size() - at < *size) return std::nullopt;
  vdso.image.assign(bytes.begin() + static_cast<std::ptrdiff_t>(at), bytes.begin() + static_cast<std::ptrdiff_t>(at + *size));
  at += *size;
  auto sites = word();
  for (std::uint64_t i = 0; sites && i < *sites; ++i) {
    auto site = word();
    if (!site) return std::nullopt;
    vdso.sites.push_back(*site);
  }
  auto syscall = word();
  auto clocks = word();
  if (!sites || !syscall || !clocks) return std::nullopt;
  vdso.syscall = *syscall;
  for (std::uint64_t i = 0; i < *clocks; ++i) {
    auto site = word(), entry = word();
    if (!site || !entry) return std::nullopt;
    vdso.clocks.emplace_back(*site, *entry);
  }
  if (at != bytes.size()) return std::nullopt;
  return vdso;
}

// Bump when treated() or what it finds changes: a kept treatment made by
// another ttdb is used only if its version is this one.
constexpr int kTreatmentVersion = 1;

// Every process has the same vDSO: it is treated once (finding its own
// `syscall` disassembles it, which cost a shell's child more than its
// exec), and every later recording takes the treatment from the site cache
// (0.6 to 0.9 ms of a recording's start).
TreatedVdso remembered_treatment(std::uint64_t start, const Bytes& original, VdsoTreatment how) {
  using Key = std::tuple<std::uint64_t, VdsoTreatment, ContentHash>;
  static std::mutex lock;
  static std::map<Key, TreatedVdso> done;
  ContentHash content = content_hash(original);
  Key key{start, how, content};
  {
    std::lock_guard held(lock);
    if (auto found = done.find(key); found != done.end()) return found->second;
  }
  std::string kept_as = fmt::format("{:x}-{}-v{}", start, static_cast<std::uint64_t>(how), kTreatmentVersion);
  auto kept = site_cache().load_vdso(content, kept_as);
  std::optional<TreatedVdso> result = kept ? deserialized(*kept, original) : std::nullopt;
  if (!result) {
    result = treated(start, original, how);
    site_cache().store_vdso(content, kept_as, serialized(*result));
  }
  std::lock_guard held(lock);
  if (done.size() < 16) done.emplace(key, *result);
  return *result;
}

// Treats the vDSO at `vdso` as `how` says; fills in `stack`'s vDSO fields.
void treat_vdso(Tracee& tracee, const std::vector<Mapping>& maps, std::uint64_t vdso, VdsoTreatment how,
                InitialStack& stack) {
  auto mapping = mapping_containing(maps, vdso);
  if (!mapping) return;
  auto original = tracee.try_read_bytes(RemotePtr(mapping->start), mapping->end - mapping->start);
  if (!original) return;
  TreatedVdso vdso_now = remembered_treatment(mapping->start, *original, how);
  stack.vdso_sites.insert(stack.vdso_sites.end(), vdso_now.sites.begin(), vdso_now.sites.end());
  stack.vdso_syscall = vdso_now.syscall;
  stack.vdso_clocks = vdso_now.clocks;
  stack.vdso_start = mapping->start;
  stack.vdso_end = mapping->end;
  if (vdso_now.image != *original && !tracee.write_bytes(RemotePtr(mapping->start), vdso_now.image))
    fail("cannot rewrite the vDSO's functions in program {}", tracee.tid());
}

}  // namespace

InitialStack prepare_initial_stack(Tracee& tracee, VdsoTreatment vdso, const std::vector<Mapping>& maps) {
  InitialStack stack;
  stack.sp = RemotePtr(tracee.regs().rsp);
  auto mapping = mapping_containing(maps, stack.sp.addr());
  if (!mapping) fail("the program's stack pointer {:#x} is outside any mapping at exec", stack.sp.addr());
  stack.top = RemotePtr(mapping->end);
  // Everything from the stack pointer up, read at once (word by word, it
  // was a hundred reads of the program's memory at every exec).
  stack.bytes = tracee.read_bytes(stack.sp, stack.top.addr() - stack.sp.addr());
  std::size_t at = 0;
  auto word = [&] {
    if (stack.bytes.size() - at < 8) fail("the program's initial stack at {:#x} ends inside its vectors", stack.sp.addr());
    std::uint64_t v;
    std::memcpy(&v, stack.bytes.data() + at, 8);
    at += 8;
    return v;
  };
  // Layout: argc, argv[], NULL, envp[], NULL, then (type, value) pairs.
  std::uint64_t argc = word();
  if (argc > stack.bytes.size() / 8) fail("the program's initial stack at {:#x} says it has {} arguments", stack.sp.addr(), argc);
  at += 8 * (argc + 1);
  while (word() != 0) {
  }
  for (;;) {
    std::uint64_t type = word(), value = word();
    if (type == AT_NULL) break;
    if (type == AT_SYSINFO_EHDR) treat_vdso(tracee, maps, value, vdso, stack);
    if (type == AT_RANDOM) stack.at_random = RemotePtr(value);
    if (type == AT_PHDR) stack.at_phdr = value;
  }
  return stack;
}

}  // namespace ttdb
