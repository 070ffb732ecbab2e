// Finding the syscall and rdtsc sites a patch can rewrite, in the ELF file
// the program maps, and the patch event's description of them.
#include <capstone/capstone.h>
#include <elf.h>

#include <algorithm>
#include <cstring>

#include "code_scan.h"
#include "shim_abi.h"
#include "ttdb/tracer/syscall_sites.h"
#include "ttdb/tracer/syscall_table.h"

namespace ttdb {
namespace {

// In a patch event's description of its sites, where a syscall site says
// how many instructions it displaced, an rdtsc site says this, then gives
// the bytes after its rdtsc; a syscall site that moves the program's
// instructions (format 15) says the other, then gives them.
constexpr std::uint8_t kTscSiteMark = 0x80;
constexpr std::uint8_t kMovedSiteMark = 0x81;
// What a trampoline holds of the program's instructions after an rdtsc or
// a syscall: its slow tail is the shortest, 24 bytes with the rdtsc or
// syscall and the jump back.
constexpr std::size_t kMostMoved = TTDB_TAIL_STOP - TTDB_TAIL_SLOW - 2 - 5;

template <typename T>
std::optional<T> read_at(ByteView bytes, std::uint64_t offset) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return std::nullopt;
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

// --- the ELF file: where functions start --------------------------------------

struct Elf {
  std::vector<Elf64_Phdr> loads;
  std::vector<std::uint64_t> function_starts;  // virtual addresses, sorted
};

// Function starts from .eh_frame_hdr's binary search table, which every
// function with unwind information (all compiled code) has an entry in.
std::optional<Elf> parse_elf(ByteView file) {
  auto ehdr = read_at<Elf64_Ehdr>(file, 0);
  if (!ehdr || std::memcmp(ehdr->e_ident, ELFMAG, SELFMAG) != 0 || ehdr->e_ident[EI_CLASS] != ELFCLASS64 ||
      ehdr->e_machine != EM_X86_64)
    return std::nullopt;
  Elf elf;
  std::optional<Elf64_Phdr> eh_frame;
  for (int i = 0; i < ehdr->e_phnum; ++i) {
    auto ph = read_at<Elf64_Phdr>(file, ehdr->e_phoff + static_cast<std::uint64_t>(i) * ehdr->e_phentsize);
    if (!ph) return std::nullopt;
    if (ph->p_type == PT_LOAD) elf.loads.push_back(*ph);
    if (ph->p_type == PT_GNU_EH_FRAME) eh_frame = ph;
  }
  if (!eh_frame) return std::nullopt;
  std::uint64_t hdr = eh_frame->p_offset;
  auto version = read_at<std::uint8_t>(file, hdr);
  auto ptr_enc = read_at<std::uint8_t>(file, hdr + 1);
  auto count_enc = read_at<std::uint8_t>(file, hdr + 2);
  auto table_enc = read_at<std::uint8_t>(file, hdr + 3);
  // The encodings every toolchain uses: pc-relative and data-relative 4-byte values.
  if (version != 1 || ptr_enc != 0x1b || count_enc != 0x03 || table_enc != 0x3b) return std::nullopt;
  auto count = read_at<std::uint32_t>(file, hdr + 8);
  if (!count) return std::nullopt;
  for (std::uint32_t i = 0; i < *count; ++i) {
    auto start = read_at<std::int32_t>(file, hdr + 12 + static_cast<std::uint64_t>(i) * 8);
    if (!start) return std::nullopt;
    elf.function_starts.push_back(eh_frame->p_vaddr + static_cast<std::uint64_t>(static_cast<std::int64_t>(*start)));
  }
  std::sort(elf.function_starts.begin(), elf.function_starts.end());
  return elf;
}

// --- what may follow a syscall ------------------------------------------------

// Whether the `n` bytes at `b` begin the padding compilers put between
// functions: nops (0x90, 0x0f 0x1f, with 0x66 or 0x2e prefixes) or int3s.
bool pads(const std::uint8_t* b, std::size_t n) {
  if (n == 0) return true;
  std::size_t k = 0;
  while (k < n && (b[k] == 0x66 || b[k] == 0x2e)) ++k;
  if (k == n) return true;
  return b[k] == 0x90 || b[k] == 0xcc || (b[k] == 0x0f && (k + 1 == n || b[k + 1] == 0x1f));
}

// Decodes the instructions after a syscall at `at` (a file offset) that only
// look at its result, until they cover 5 bytes with it: or the return of a
// wrapper right after it, whose padding makes up the 5 bytes.
std::optional<SyscallSite> decode_site(ByteView code, std::size_t at) {
  SyscallSite site;
  std::size_t i = at + 2;
  while (i - at < 5) {
    DisplacedInsn insn;
    const std::uint8_t* b = code.data() + i;
    std::size_t left = code.size() - i;
    std::size_t length = 0;
    // cmp eax, imm32 and test eax, eax; with REX.W (0x48), of rax.
    std::size_t rex = left >= 1 && b[0] == 0x48 ? 1 : 0;
    const std::uint8_t* op = b + rex;
    std::uint8_t width = rex ? 64 : 32;
    if (left >= rex + 5 && op[0] == 0x3d) {
      insn.op = DisplacedInsn::Op::cmp;
      insn.width = width;
      std::int32_t imm;
      std::memcpy(&imm, op + 1, 4);
      insn.imm = imm;
      length = rex + 5;
    } else if (left >= rex + 2 && op[0] == 0x85 && op[1] == 0xc0) {
      insn.op = DisplacedInsn::Op::test;
      insn.width = width;
      length = rex + 2;
    } else if (left >= 2 && (b[0] & 0xf0) == 0x70) {
      insn.op = DisplacedInsn::Op::jcc;
      insn.cond = b[0] & 0x0f;
      insn.target = i + 2 + static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int8_t>(b[1])));
      length = 2;
    } else if (i == at + 2 && b[0] == 0xc3 && left >= 3 && pads(b + 1, 2)) {
      // (Right after the syscall only: the shim tells such a site by the
      // `ret` its tails begin with, as it must take none's stop tail.)
      insn.op = DisplacedInsn::Op::ret;
      length = 1;
    } else if (left >= 6 && b[0] == 0x0f && (b[1] & 0xf0) == 0x80) {
      insn.op = DisplacedInsn::Op::jcc;
      insn.cond = b[1] & 0x0f;
      std::int32_t rel;
      std::memcpy(&rel, b + 2, 4);
      insn.target = i + 6 + static_cast<std::uint64_t>(static_cast<std::int64_t>(rel));
      length = 6;
    } else {
      return std::nullopt;
    }
    site.after.push_back(insn);
    i += length;
    // Past a branch the flow may go elsewhere: what comes next is not ours.
    if (insn.op == DisplacedInsn::Op::jcc && i - at < 5) return std::nullopt;
    // Past a return, the padding up to 5 bytes is the patch's, and no more.
    if (insn.op == DisplacedInsn::Op::ret) i = std::max<std::size_t>(i, at + 5);
  }
  // A branch or a return among the displaced instructions must come last.
  for (std::size_t k = 0; k + 1 < site.after.size(); ++k)
    if (site.after[k].op == DisplacedInsn::Op::jcc || site.after[k].op == DisplacedInsn::Op::ret) return std::nullopt;
  site.addr = at;
  site.length = static_cast<std::uint8_t>(i - at);
  return site;
}

// Whether `insn` (decoded with details) touches only memory that is there:
// the stack's (rsp, rbp) or the module's own (rip-relative). A fault in a
// trampoline would be ttdb's, which the recording could not go past.
bool cannot_fault(const cs_insn& insn) {
  if (insn.id == X86_INS_LEA || insn.id == X86_INS_NOP) return true;  // (no access)
  const cs_x86& x = insn.detail->x86;
  for (int i = 0; i < x.op_count; ++i) {
    const cs_x86_op& op = x.operands[i];
    if (op.type != X86_OP_MEM) continue;
    bool known = op.mem.base == X86_REG_RIP || op.mem.base == X86_REG_RSP || op.mem.base == X86_REG_RBP;
    if (!known || op.mem.index != X86_REG_INVALID || op.mem.segment != X86_REG_INVALID) return false;
  }
  return true;
}

// Whether `insn` leaves rcx alone: after a syscall it holds the kernel's
// return address, the site's natively and after the shim's call, the slow
// tail's own after a traced one.
bool leaves_rcx(csh detail, const cs_insn& insn) {
  cs_regs read, written;
  std::uint8_t read_count = 0, written_count = 0;
  if (cs_regs_access(detail, &insn, read, &read_count, written, &written_count) != CS_ERR_OK) return false;
  auto rcx = [](std::uint16_t r) {
    return r == X86_REG_RCX || r == X86_REG_ECX || r == X86_REG_CX || r == X86_REG_CL || r == X86_REG_CH;
  };
  return std::none_of(read, read + read_count, rcx) && std::none_of(written, written + written_count, rcx);
}

// An rdtsc or a syscall at `at` (a file offset), with the instructions
// after it that make up 5 bytes with it, which its trampoline runs moved:
// each must run the same anywhere (MovableCode) and touch no memory that
// may not be there (after a syscall, nor rcx), and all of them fit in the
// trampoline's tails.
std::optional<SyscallSite> decode_moving_site(csh detail, ByteView code, std::size_t at, bool tsc) {
  cs_insn* insn = cs_malloc(detail);
  const std::uint8_t* bytes = code.data() + at + 2;
  std::size_t left = code.size() - at - 2;
  std::uint64_t address = at + 2;
  bool movable = true;
  while (movable && address - at < 5 && cs_disasm_iter(detail, &bytes, &left, &address, insn))
    movable = cannot_fault(*insn) && (tsc || leaves_rcx(detail, *insn));
  cs_free(insn, 1);
  if (!movable) return std::nullopt;
  std::size_t length = address - at;
  if (length < 5 || length - 2 > kMostMoved) return std::nullopt;
  ByteView after = code.subspan(at + 2, length - 2);
  auto moved = MovableCode::of(detail, after, at + 2);
  if (!moved) return std::nullopt;
  SyscallSite site;
  site.addr = at;
  site.length = static_cast<std::uint8_t>(length);
  site.tsc = tsc;
  site.displaced.assign(after.begin(), after.end());
  site.rip_relative = moved->displacements();
  return site;
}

// --- the patch event's description of its sites --------------------------------

void put(Bytes& out, const void* data, std::size_t size) {
  const auto* b = static_cast<const std::uint8_t*>(data);
  out.insert(out.end(), b, b + size);
}

}  // namespace

Bytes serialize_sites(const std::vector<SyscallSite>& sites) {
  Bytes out;
  for (const auto& s : sites) {
    put(out, &s.addr, 8);
    put(out, &s.length, 1);
    if (s.tsc || s.moves_code()) {
      put(out, s.tsc ? &kTscSiteMark : &kMovedSiteMark, 1);
      put(out, s.displaced.data(), s.displaced.size());
      auto count = static_cast<std::uint8_t>(s.rip_relative.size());
      put(out, &count, 1);
      for (auto [disp_at, end] : s.rip_relative) {
        put(out, &disp_at, 1);
        put(out, &end, 1);
      }
      continue;
    }
    auto count = static_cast<std::uint8_t>(s.after.size());
    put(out, &count, 1);
    for (const auto& i : s.after) {
      put(out, &i.op, 1);
      put(out, &i.width, 1);
      put(out, &i.cond, 1);
      put(out, &i.imm, 8);
      put(out, &i.target, 8);
    }
  }
  return out;
}

std::optional<std::vector<SyscallSite>> deserialize_sites(ByteView in) {
  std::vector<SyscallSite> out;
  std::size_t at = 0;
  auto take = [&](void* data, std::size_t size) {
    if (in.size() - at < size) return false;
    std::memcpy(data, in.data() + at, size);
    at += size;
    return true;
  };
  while (at < in.size()) {
    SyscallSite s;
    std::uint8_t count = 0;
    if (!take(&s.addr, 8) || !take(&s.length, 1) || !take(&count, 1) || s.length < 5) return std::nullopt;
    if (count == kTscSiteMark || count == kMovedSiteMark) {
      s.tsc = count == kTscSiteMark;
      s.displaced.resize(s.length - 2u);
      std::uint8_t reaches = 0;
      if (s.length > 2 + kMostMoved || !take(s.displaced.data(), s.displaced.size()) || !take(&reaches, 1) ||
          reaches > s.displaced.size() / 5)
        return std::nullopt;
      s.rip_relative.resize(reaches);
      for (auto& [disp_at, end] : s.rip_relative)
        if (!take(&disp_at, 1) || !take(&end, 1) || disp_at + 4u > end || end > s.displaced.size()) return std::nullopt;
      out.push_back(std::move(s));
      continue;
    }
    if (s.length > 16 || count > 3) return std::nullopt;
    s.after.resize(count);
    for (auto& i : s.after)
      if (!take(&i.op, 1) || !take(&i.width, 1) || !take(&i.cond, 1) || !take(&i.imm, 8) || !take(&i.target, 8) ||
          static_cast<int>(i.op) > 3 || (i.width != 32 && i.width != 64) || i.cond > 15)
        return std::nullopt;
    // A return is a site's one displaced instruction (decode_site).
    bool returns = std::any_of(s.after.begin(), s.after.end(), [](const DisplacedInsn& i) { return i.op == DisplacedInsn::Op::ret; });
    if (returns && (count != 1 || s.length != 5)) return std::nullopt;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::uint64_t> tsc_sites_in(const trace::Event& patch) {
  std::vector<std::uint64_t> out;
  if (auto sites = deserialize_sites(patch.info))
    for (const auto& site : *sites)
      if (site.tsc) out.push_back(site.addr);
  return out;
}

namespace {

// The syscall a site makes, when the straight line of code before it sets
// eax from an immediate (glibc's wrappers: `mov $nr, %eax`, then at most a
// few instructions that leave rax alone) and no branch enters in between.
// nullopt when the code does not say (syscall(2) takes it from an argument).
// A wrong answer costs speed, never exactness: a site left alone is traced.
std::optional<std::uint64_t> syscall_number_before(csh detail, ByteView file, const Sweep& sweep, std::uint64_t site) {
  constexpr int kLookBack = 6;
  auto next = std::lower_bound(sweep.starts.begin(), sweep.starts.end(), site);
  cs_insn* insn = cs_malloc(detail);
  std::optional<std::uint64_t> nr;
  for (int k = 0; k < kLookBack && next != sweep.starts.begin() && !sweep.targeted(*next); ++k, --next) {
    std::uint64_t at = *(next - 1);
    const std::uint8_t* code = file.data() + at;
    std::size_t left = *next - at;
    std::uint64_t address = at;
    if (!cs_disasm_iter(detail, &code, &left, &address, insn) || left != 0) break;
    if (cs_insn_group(detail, insn, CS_GRP_JUMP) || cs_insn_group(detail, insn, CS_GRP_CALL) ||
        cs_insn_group(detail, insn, CS_GRP_RET) || cs_insn_group(detail, insn, CS_GRP_INT))
      break;
    cs_regs read, written;
    std::uint8_t read_count = 0, written_count = 0;
    if (cs_regs_access(detail, insn, read, &read_count, written, &written_count) != CS_ERR_OK) break;
    bool sets_rax = std::any_of(written, written + written_count, [](std::uint16_t r) {
      return r == X86_REG_RAX || r == X86_REG_EAX || r == X86_REG_AX || r == X86_REG_AL || r == X86_REG_AH;
    });
    if (!sets_rax) continue;
    const cs_x86& x86 = insn->detail->x86;
    if (insn->id == X86_INS_MOV && x86.op_count == 2 && x86.operands[0].type == X86_OP_REG &&
        (x86.operands[0].reg == X86_REG_EAX || x86.operands[0].reg == X86_REG_RAX) && x86.operands[1].type == X86_OP_IMM &&
        x86.operands[1].imm >= 0)
      nr = static_cast<std::uint64_t>(x86.operands[1].imm);
    break;
  }
  cs_free(insn, 1);
  return nr;
}

// Whether the shim may make this syscall itself: a site whose syscall it
// never makes is left alone, as its trampoline would only lead back to a
// traced syscall (most of libc's 450: futex, mmap, the signal calls...).
bool shim_may_buffer(std::uint64_t nr) {
  if (nr >= TTDB_SHIM_MAX_NR) return false;
  const SyscallInfo* info = find_syscall(static_cast<long>(nr));
  return info && info->buffering != Buffering::none;
}

}  // namespace

std::vector<SyscallSite> find_syscall_sites(ByteView file, std::uint64_t start, std::uint64_t size, std::uint64_t offset) {
  auto elf = parse_elf(file);
  if (!elf || offset >= file.size()) return {};
  std::uint64_t end = std::min<std::uint64_t>(file.size(), offset + size);
  csh handle = 0, detail = 0;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return {};
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &detail) != CS_ERR_OK) {
    cs_close(&handle);
    return {};
  }
  cs_option(detail, CS_OPT_DETAIL, CS_OPT_ON);
  std::vector<SyscallSite> found;
  std::optional<std::pair<std::uint64_t, Sweep>> swept;  // the last function swept, by its file offset
  for (std::uint64_t i = offset; i + 1 < end; ++i) {
    if (file[i] != 0x0f || (file[i + 1] != 0x05 && file[i + 1] != 0x31)) continue;
    bool tsc = file[i + 1] == 0x31;
    // (What the tracer emulates, if it can: a thread stopped in a tail is
    // moved on at once, out of ttdb's code.)
    auto site = tsc ? std::nullopt : decode_site(file.first(end), i);
    if (!site) site = decode_moving_site(detail, file.first(end), i, tsc);
    if (!site) continue;
    // The function around it, from the unwind table, in file offsets.
    auto load = std::find_if(elf->loads.begin(), elf->loads.end(), [&](const Elf64_Phdr& p) {
      return (p.p_flags & PF_X) && p.p_offset <= i && i + site->length <= p.p_offset + p.p_filesz;
    });
    if (load == elf->loads.end()) continue;
    std::uint64_t vaddr = load->p_vaddr + (i - load->p_offset);
    auto after = std::upper_bound(elf->function_starts.begin(), elf->function_starts.end(), vaddr);
    if (after == elf->function_starts.begin()) continue;
    std::uint64_t fstart = *(after - 1), fend = after == elf->function_starts.end() ? vaddr + 64 : *after;
    if (fstart < load->p_vaddr || vaddr + site->length > fend) continue;
    std::uint64_t from = load->p_offset + (fstart - load->p_vaddr), to = load->p_offset + (fend - load->p_vaddr);
    if (to > end || from < offset) continue;
    if (!swept || swept->first != from) swept.emplace(from, sweep_function(handle, file, from, to));
    const Sweep& sw = swept->second;
    // Only real instructions, and nothing jumps into the middle of the patch.
    bool ok = sw.starts_at(i);
    for (std::uint64_t b = i + 1; ok && b < i + site->length; ++b) ok = !sw.targeted(b);
    if (!ok) continue;
    if (!tsc)
      if (auto nr = syscall_number_before(detail, file, sw, i); nr && !shim_may_buffer(*nr)) continue;
    // To addresses in the program.
    site->addr = start + (i - offset);
    for (auto& insn : site->after)
      if (insn.op == DisplacedInsn::Op::jcc) insn.target = start + (insn.target - offset);
    found.push_back(std::move(*site));
    i += site->length - 1;
  }
  cs_close(&handle);
  cs_close(&detail);
  return found;
}

}  // namespace ttdb
