#include "code_scan.h"

#include <elf.h>

#include <cstring>

namespace ttdb {

Sweep sweep_function(csh handle, ByteView file, std::uint64_t from, std::uint64_t to) {
  Sweep out;
  const std::uint8_t* bytes = file.data() + from;
  std::size_t size = to - from;
  std::uint64_t address = from;
  cs_insn* insn = cs_malloc(handle);
  while (size > 0 && cs_disasm_iter(handle, &bytes, &size, &address, insn)) {
    out.starts.push_back(insn->address);
    const std::uint8_t* b = insn->bytes;
    std::uint64_t next = insn->address + insn->size;
    if ((b[0] == 0xeb || (b[0] & 0xf0) == 0x70) && insn->size == 2)
      out.targets.push_back(next + static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int8_t>(b[1]))));
    std::int32_t rel;
    if ((b[0] == 0xe9 || b[0] == 0xe8) && insn->size == 5) {
      std::memcpy(&rel, b + 1, 4);
      out.targets.push_back(next + static_cast<std::uint64_t>(static_cast<std::int64_t>(rel)));
    }
    if (b[0] == 0x0f && (b[1] & 0xf0) == 0x80 && insn->size == 6) {
      std::memcpy(&rel, b + 2, 4);
      out.targets.push_back(next + static_cast<std::uint64_t>(static_cast<std::int64_t>(rel)));
    }
  }
  cs_free(insn, 1);
  std::sort(out.targets.begin(), out.targets.end());
  return out;
}

bool in_group(const cs_insn& insn, std::uint8_t group) {
  const cs_detail& d = *insn.detail;
  return std::find(d.groups, d.groups + d.groups_count, group) != d.groups + d.groups_count;
}

namespace {

bool stays_in_line(const cs_insn& insn) {
  for (std::uint8_t group : {CS_GRP_JUMP, CS_GRP_CALL, CS_GRP_RET, CS_GRP_INT, CS_GRP_IRET, CS_GRP_PRIVILEGE})
    if (in_group(insn, group)) return false;
  switch (insn.id) {
    case X86_INS_SYSCALL:
    case X86_INS_SYSENTER:
    case X86_INS_XBEGIN:
    case X86_INS_XABORT:
    case X86_INS_XEND:
    case X86_INS_UD2:
    case X86_INS_HLT:
    case X86_INS_RDTSC:
    case X86_INS_RDTSCP:
    case X86_INS_RDRAND:
    case X86_INS_RDSEED:
      return false;
    default: return true;
  }
}

// Writes at `disp_at` in `code` the displacement that reaches `target` from
// `next` (where the instruction ends, as the code runs); false when it
// does not fit.
bool put_displacement(Bytes& code, std::size_t disp_at, std::uint64_t target, std::uint64_t next) {
  auto disp = static_cast<std::int64_t>(target - next);
  if (disp < INT32_MIN || disp > INT32_MAX) return false;
  auto d = static_cast<std::int32_t>(disp);
  std::memcpy(code.data() + disp_at, &d, 4);
  return true;
}

// Where `insn`'s rip-relative displacement is, and what it reaches; {0, 0}
// for none; nullopt for one that cannot be moved.
std::optional<std::pair<std::size_t, std::uint64_t>> rip_reach(const cs_insn& insn) {
  const cs_x86& x = insn.detail->x86;
  bool rip_relative = false;
  for (int i = 0; i < x.op_count; ++i)
    rip_relative |= x.operands[i].type == X86_OP_MEM && x.operands[i].mem.base == X86_REG_RIP;
  if (!rip_relative) return std::pair<std::size_t, std::uint64_t>{0, 0};
  if (x.encoding.disp_offset == 0 || x.encoding.disp_size != 4) return std::nullopt;
  return std::pair<std::size_t, std::uint64_t>{x.encoding.disp_offset,
                                               insn.address + insn.size + static_cast<std::uint64_t>(x.disp)};
}

}  // namespace

std::optional<MovableCode> MovableCode::of(csh detail, ByteView code, std::uint64_t from) {
  MovableCode out;
  cs_insn* insn = cs_malloc(detail);
  const std::uint8_t* bytes = code.data();
  std::size_t left = code.size();
  std::uint64_t address = from;
  bool whole = true;
  while (whole && left > 0) {
    std::size_t start = code.size() - left;
    whole = cs_disasm_iter(detail, &bytes, &left, &address, insn) && stays_in_line(*insn);
    auto reach = whole ? rip_reach(*insn) : std::nullopt;
    whole = whole && reach;
    if (whole && reach->first) out.reaches_.push_back(Reach{start + reach->first, start + insn->size, reach->second});
  }
  cs_free(insn, 1);
  if (!whole) return std::nullopt;
  out.bytes_.assign(code.begin(), code.end());
  return out;
}

MovableCode MovableCode::known(ByteView code, std::uint64_t from, const std::vector<Displacement>& displacements) {
  MovableCode out;
  out.bytes_.assign(code.begin(), code.end());
  for (auto [disp_at, insn_end] : displacements) {
    std::int32_t disp = 0;
    std::memcpy(&disp, code.data() + disp_at, 4);
    out.reaches_.push_back(Reach{disp_at, insn_end, from + insn_end + static_cast<std::uint64_t>(static_cast<std::int64_t>(disp))});
  }
  return out;
}

std::vector<MovableCode::Displacement> MovableCode::displacements() const {
  std::vector<Displacement> out;
  for (const Reach& r : reaches_) out.emplace_back(static_cast<std::uint8_t>(r.disp_at), static_cast<std::uint8_t>(r.insn_end));
  return out;
}

std::optional<Bytes> MovableCode::at(std::uint64_t to) const {
  Bytes out = bytes_;
  for (const Reach& r : reaches_)
    if (!put_displacement(out, r.disp_at, r.target, to + r.insn_end)) return std::nullopt;
  return out;
}

std::optional<Bytes> moved_instruction(const cs_insn& insn, std::uint64_t to) {
  auto reach = rip_reach(insn);
  if (!reach) return std::nullopt;
  Bytes out(insn.bytes, insn.bytes + insn.size);
  if (reach->first && !put_displacement(out, reach->first, reach->second, to + insn.size)) return std::nullopt;
  return out;
}

std::optional<std::uint64_t> place_page(const std::vector<Mapping>& maps, std::uint64_t low, std::uint64_t high,
                                        std::uint64_t size, Placement placement) {
  std::uint64_t floor = high > kReach ? high - kReach : kPage;
  std::optional<std::uint64_t> best;
  std::uint64_t previous_end = kPage * 16;  // leave the lowest pages alone
  for (const auto& m : maps) {
    std::uint64_t gap_start = std::max(previous_end, floor), gap_end = std::min(m.start, low);
    if (gap_end > gap_start && gap_end - gap_start >= size) {
      std::uint64_t aligned = (gap_start + kPage - 1) & ~(kPage - 1);
      if (placement == Placement::farthest && gap_end - aligned >= size) return aligned;
      best = gap_end - size;
    }
    previous_end = std::max(previous_end, m.end);
    if (m.start >= low) break;
  }
  return best;
}

namespace {

template <typename T>
std::optional<T> read_remote(Tracee& tracee, std::uint64_t addr) {
  T value;
  if (tracee.read_some(RemotePtr(addr), &value, sizeof value) != sizeof value) return std::nullopt;
  return value;
}

// The ELF header of the module that holds `pc`: modules are mapped from
// their first page up, so it is the nearest page below with ELF's magic
// whose loadable segments cover `pc`.
struct Module {
  std::uint64_t header = 0, bias = 0;
  Elf64_Ehdr ehdr{};
};

std::optional<Module> module_of(Tracee& tracee, std::uint64_t pc) {
  constexpr std::uint64_t kMaxModule = 256ull << 20;
  for (std::uint64_t page = pc & ~(kPage - 1); pc - page < kMaxModule && page >= kPage; page -= kPage) {
    auto ehdr = read_remote<Elf64_Ehdr>(tracee, page);
    if (!ehdr) return std::nullopt;  // an unmapped page: no module reaches down here
    if (std::memcmp(ehdr->e_ident, ELFMAG, SELFMAG) != 0 || ehdr->e_machine != EM_X86_64) continue;
    std::optional<std::uint64_t> first_vaddr;
    for (int i = 0; i < ehdr->e_phnum; ++i) {
      auto ph = read_remote<Elf64_Phdr>(tracee, page + ehdr->e_phoff + static_cast<std::uint64_t>(i) * ehdr->e_phentsize);
      if (!ph) return std::nullopt;
      if (ph->p_type == PT_LOAD && !first_vaddr) first_vaddr = ph->p_vaddr - ph->p_offset;
    }
    if (!first_vaddr) return std::nullopt;
    return Module{page, page - *first_vaddr, *ehdr};
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::pair<std::uint64_t, std::uint64_t>> function_around(Tracee& tracee, std::uint64_t pc) {
  auto module = module_of(tracee, pc);
  if (!module) return std::nullopt;
  const Elf64_Ehdr& ehdr = module->ehdr;
  std::optional<Elf64_Phdr> eh_frame;
  for (int i = 0; i < ehdr.e_phnum && !eh_frame; ++i) {
    auto ph = read_remote<Elf64_Phdr>(tracee, module->header + ehdr.e_phoff + static_cast<std::uint64_t>(i) * ehdr.e_phentsize);
    if (ph && ph->p_type == PT_GNU_EH_FRAME) eh_frame = ph;
  }
  if (!eh_frame) return std::nullopt;
  std::uint64_t hdr = module->bias + eh_frame->p_vaddr;
  auto head = read_remote<std::uint32_t>(tracee, hdr);
  auto count = read_remote<std::uint32_t>(tracee, hdr + 8);
  // version 1; pc-relative, udata4 count, datarel sdata4 table: what every toolchain writes.
  if (!head || *head != 0x3b031b01u || !count || *count == 0) return std::nullopt;
  // Binary search of the table of (function start, FDE), sorted by start.
  std::uint32_t lo = 0, hi = *count;
  while (hi - lo > 1) {
    std::uint32_t mid = (lo + hi) / 2;
    auto start = read_remote<std::int32_t>(tracee, hdr + 12 + std::uint64_t{mid} * 8);
    if (!start) return std::nullopt;
    if (hdr + static_cast<std::uint64_t>(static_cast<std::int64_t>(*start)) <= pc) lo = mid;
    else hi = mid;
  }
  auto start = read_remote<std::int32_t>(tracee, hdr + 12 + std::uint64_t{lo} * 8);
  if (!start) return std::nullopt;
  std::uint64_t fstart = hdr + static_cast<std::uint64_t>(static_cast<std::int64_t>(*start));
  if (fstart > pc) return std::nullopt;
  std::uint64_t fend = pc + 64;
  if (lo + 1 < *count)
    if (auto next = read_remote<std::int32_t>(tracee, hdr + 12 + std::uint64_t{lo + 1} * 8))
      fend = hdr + static_cast<std::uint64_t>(static_cast<std::int64_t>(*next));
  if (fend <= pc) return std::nullopt;
  return std::pair{fstart, fend};
}

}  // namespace ttdb
