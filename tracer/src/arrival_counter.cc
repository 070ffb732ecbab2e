#include "ttdb/tracer/arrival_counter.h"

#include <asm/unistd_64.h>
#include <capstone/capstone.h>
#include <sys/mman.h>

#include <cstring>
#include <memory>

#include "code_scan.h"
#include "ttdb/base/log.h"
#include "ttdb/tracer/inject.h"

namespace ttdb {
namespace {

// A counter area is five pages: four of the trampolines' code, a slot of
// 256 bytes each, with a magic word at the end that tells the area from the
// program's memory (a program may map over it); then their data, 32 bytes
// a slot: the count-down, a place for rax and the return address a moved
// call pushes. Data written next to code running would cost a
// self-modifying-code flush of the pipeline at every arrival (80 times
// slower, measured).
constexpr std::uint64_t kCodeSize = 4 * kPage, kSlotCode = 256, kSlotData = 32, kMagicAt = kCodeSize - 16;
constexpr std::uint64_t kRemaining = 0, kSavedRax = 8, kReturnSlot = 16;
constexpr std::uint64_t kPages = kCodeSize + kPage;
constexpr std::uint8_t kMagic[16] = {'t', 't', 'd', 'b', ' ', 'a', 'r', 'r', 'i', 'v', 'a', 'l', 's', 0, 0, 1};
static_assert(ArrivalCounter::kSlots * kSlotCode <= kMagicAt && ArrivalCounter::kSlots * kSlotData <= kPage);
constexpr std::uint64_t kNever = 1ull << 62;  // a count-down that never runs out
constexpr std::size_t kMaxFunction = 256 * 1024;

bool ours(Tracee& tracee, std::uint64_t page) {
  std::uint8_t magic[sizeof kMagic];
  return tracee.read_some(RemotePtr(page + kMagicAt), magic, sizeof magic) == sizeof magic &&
         std::memcmp(magic, kMagic, sizeof magic) == 0;
}

// A counter page within a rel32 jump of [low, high), mapped if none is.
std::optional<std::uint64_t> page_near(Tracee& tracee, std::uint64_t syscall_insn, std::vector<std::uint64_t>& pages,
                                       std::uint64_t low, std::uint64_t high) {
  std::erase_if(pages, [&](std::uint64_t p) { return !ours(tracee, p); });
  for (std::uint64_t p : pages)
    if (std::max(high, p + kPages) - std::min(low, p) <= kReach) return p;
  // Far below the code: only replay has this page, so it keeps out of the
  // way of the places the kernel picks for the program's own mappings.
  auto where = place_page(read_maps(tracee.tid()), low, high, kPages, Placement::farthest);
  if (!where) return std::nullopt;
  std::int64_t got = inject_syscall(tracee, syscall_insn, __NR_mmap,
                                    {*where, kPages, PROT_READ | PROT_WRITE | PROT_EXEC,
                                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, static_cast<std::uint64_t>(-1), 0});
  if (got != static_cast<std::int64_t>(*where)) return std::nullopt;
  if (!tracee.write_bytes(RemotePtr(*where + kMagicAt), ByteView(kMagic, sizeof kMagic))) return std::nullopt;
  TTDB_LOG(replay, "arrival counter page at {:#x}", *where);
  pages.push_back(*where);
  return *where;
}

// Machine code, assembled at a known address.
class Code {
 public:
  explicit Code(std::uint64_t base) : base_(base) {}
  std::uint64_t here() const { return base_ + bytes_.size(); }
  void put(std::initializer_list<std::uint8_t> b) { bytes_.insert(bytes_.end(), b); }
  void put(ByteView b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }
  void put32(std::int64_t v) {
    auto x = static_cast<std::int32_t>(v);
    auto* p = reinterpret_cast<const std::uint8_t*>(&x);
    bytes_.insert(bytes_.end(), p, p + 4);
  }
  // An instruction `prefix` disp32 [imm8], whose disp32 is rip-relative to `target`.
  void rip_relative(std::initializer_list<std::uint8_t> prefix, std::uint64_t target, std::optional<std::uint8_t> imm8 = {}) {
    put(prefix);
    std::uint64_t end = here() + 4 + (imm8 ? 1 : 0);
    put32(static_cast<std::int64_t>(target - end));
    if (imm8) put({*imm8});
  }
  void jump(std::initializer_list<std::uint8_t> opcode, std::uint64_t target) {
    put(opcode);
    put32(static_cast<std::int64_t>(target - (here() + 4)));
  }
  const Bytes& bytes() const { return bytes_; }

 private:
  std::uint64_t base_;
  Bytes bytes_;
};

// The direct target of a relative branch, call or jump.
std::optional<std::uint64_t> relative_target(const cs_insn& insn) {
  const cs_x86& x = insn.detail->x86;
  if (x.op_count == 1 && x.operands[0].type == X86_OP_IMM) return static_cast<std::uint64_t>(x.operands[0].imm);
  return std::nullopt;
}

// Whether the flow goes on to the next instruction.
bool falls_through(const cs_insn& insn) {
  if (in_group(insn, CS_GRP_RET) || in_group(insn, CS_GRP_CALL) || in_group(insn, CS_GRP_IRET)) return false;
  return insn.id != X86_INS_JMP && insn.id != X86_INS_LJMP && insn.id != X86_INS_UD2 && insn.id != X86_INS_HLT;
}

// Copies one instruction of the program to `code`, so that it does there what
// it did at its own address. False for what cannot move.
bool relocate(const cs_insn& insn, Code& code, std::uint64_t return_slot) {
  if (in_group(insn, CS_GRP_INT) || in_group(insn, CS_GRP_IRET) || insn.id == X86_INS_SYSCALL ||
      insn.id == X86_INS_SYSENTER || insn.id == X86_INS_LOOP || insn.id == X86_INS_LOOPE ||
      insn.id == X86_INS_LOOPNE || insn.id == X86_INS_JRCXZ || insn.id == X86_INS_JECXZ || insn.id == X86_INS_XBEGIN ||
      insn.id == X86_INS_LJMP || insn.id == X86_INS_LCALL)
    return false;
  if (insn.id == X86_INS_CALL) {
    // Pushes the program's own return address, then goes where the call went.
    auto target = relative_target(insn);
    if (!target || insn.bytes[0] != 0xe8) return false;
    code.rip_relative({0xff, 0x35}, return_slot);  // push qword [rip + slot]
    code.jump({0xe9}, *target);
    return true;
  }
  if (insn.id == X86_INS_JMP && (insn.bytes[0] == 0xeb || insn.bytes[0] == 0xe9)) {
    code.jump({0xe9}, *relative_target(insn));
    return true;
  }
  if (in_group(insn, CS_GRP_JUMP) && insn.id != X86_INS_JMP) {  // jcc, short or near
    const std::uint8_t* b = insn.bytes;
    bool near = b[0] == 0x0f && (b[1] & 0xf0) == 0x80, short_form = (b[0] & 0xf0) == 0x70;
    auto target = relative_target(insn);
    if (!target || !(near || short_form)) return false;
    std::uint8_t cond = near ? b[1] & 0x0f : b[0] & 0x0f;
    code.jump({0x0f, static_cast<std::uint8_t>(0x80 | cond)}, *target);
    return true;
  }
  auto copy = moved_instruction(insn, code.here());
  if (!copy) return false;
  code.put(*copy);
  return true;
}

}  // namespace

std::optional<std::uint64_t> ArrivalCounter::moved_length(Tracee& tracee, std::uint64_t addr) {
  std::uint8_t window[32];
  if (tracee.read_some(RemotePtr(addr), window, sizeof window) != sizeof window) return std::nullopt;
  csh handle = 0;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return std::nullopt;
  std::unique_ptr<csh, void (*)(csh*)> closer(&handle, [](csh* h) { cs_close(h); });
  cs_insn* insn = cs_malloc(handle);
  std::unique_ptr<cs_insn, void (*)(cs_insn*)> freer(insn, [](cs_insn* i) { cs_free(i, 1); });
  const std::uint8_t* bytes = window;
  std::size_t size = sizeof window;
  std::uint64_t at = addr;
  while (at - addr < 5)
    if (!cs_disasm_iter(handle, &bytes, &size, &at, insn)) return std::nullopt;
  return at - addr;
}

std::optional<ArrivalCounter> ArrivalCounter::install(Tracee& tracee, std::uint64_t syscall_insn,
                                                      std::vector<std::uint64_t>& pages, const Where& where,
                                                      unsigned slot, const std::function<bool(std::uint64_t)>& avoid) {
  if (slot >= kSlots) return std::nullopt;
  std::uint64_t addr = where.addr;
  // Branch targets inside the bytes to move would land in the middle of the
  // jump that replaces them: the function around is swept for them.
  std::optional<Sweep> sweep;
  std::uint64_t fstart = 0;
  Bytes function;
  if (auto range = function_around(tracee, addr); range && range->second - range->first <= kMaxFunction) {
    fstart = range->first;
    if (auto bytes = tracee.try_read_bytes(RemotePtr(fstart), range->second - fstart)) function = std::move(*bytes);
  }
  csh handle = 0;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return std::nullopt;
  std::unique_ptr<csh, void (*)(csh*)> closer(&handle, [](csh* h) { cs_close(h); });
  if (!function.empty()) sweep = sweep_function(handle, function, 0, function.size());
  if (sweep && !sweep->starts_at(addr - fstart)) sweep.reset();  // not in step with the code: trust nothing

  cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
  std::uint8_t window[32];
  if (tracee.read_some(RemotePtr(addr), window, sizeof window) != sizeof window) return std::nullopt;
  const std::uint8_t* bytes = window;
  std::size_t size = sizeof window;
  std::uint64_t at = addr;
  cs_insn* insn = cs_malloc(handle);
  std::unique_ptr<cs_insn, void (*)(cs_insn*)> freer(insn, [](cs_insn* i) { cs_free(i, 1); });
  std::vector<cs_insn> span;
  std::vector<cs_detail> details;
  span.reserve(8);
  details.reserve(8);
  std::uint64_t length = 0;
  while (length < 5) {
    if (!cs_disasm_iter(handle, &bytes, &size, &at, insn)) return std::nullopt;
    for (std::uint64_t b = insn->address; b < insn->address + insn->size; ++b)
      if (avoid(b)) return std::nullopt;
    if (!span.empty()) {
      // Reached only from the instruction before it, which must flow into it.
      if (!sweep || sweep->targeted(insn->address - fstart) || !falls_through(span.back())) return std::nullopt;
    }
    details.push_back(*insn->detail);
    span.push_back(*insn);
    span.back().detail = &details.back();
    length += insn->size;
  }
  for (std::size_t i = 0; i + 1 < span.size(); ++i)
    if (!falls_through(span[i])) return std::nullopt;

  auto page = page_near(tracee, syscall_insn, pages, addr, addr + length);
  if (!page) return std::nullopt;
  ArrivalCounter counter;
  counter.where_ = where;
  counter.code_ = *page + slot * kSlotCode;
  counter.data_ = *page + kCodeSize + slot * kSlotData;
  counter.initial_ = where.limit ? where.limit + (where.standing ? 1 : 0) : kNever;

  // Counts down with the flags kept in rax (lahf; seto), traps at zero.
  std::uint64_t data = counter.data_;
  Code code(counter.code_);
  code.rip_relative({0x48, 0x89, 0x05}, data + kSavedRax);        // mov [saved], rax
  code.put({0x9f, 0x0f, 0x90, 0xc0});                              // lahf; seto al
  code.rip_relative({0x48, 0x83, 0x2d}, data + kRemaining, 0x01);  // sub qword [remaining], 1
  code.put({0x75, 0x01, 0xcc});                                    // jnz over; int3
  counter.trap_rip_ = code.here();
  code.put({0x04, 0x7f, 0x9e});                                    // add al, 0x7f (OF); sahf
  code.rip_relative({0x48, 0x8b, 0x05}, data + kSavedRax);         // mov rax, [saved]
  counter.straight_end_ = addr;
  for (const cs_insn& i : span) {
    if (counter.straight_end_ == i.address && !in_group(i, CS_GRP_JUMP) && falls_through(i))
      counter.straight_end_ = i.address + i.size;
    counter.moved_.emplace_back(code.here(), i.address);
    if (!relocate(i, code, data + kReturnSlot)) return std::nullopt;
  }
  counter.moved_.emplace_back(code.here(), addr + length);
  code.jump({0xe9}, addr + length);
  if (code.bytes().size() > kSlotCode) return std::nullopt;

  std::uint64_t words[3] = {counter.initial_, 0, span.back().address + span.back().size};
  if (!tracee.write_bytes(RemotePtr(data), ByteView(reinterpret_cast<const std::uint8_t*>(words), sizeof words)) ||
      !tracee.write_bytes(RemotePtr(counter.code_), code.bytes()))
    return std::nullopt;
  auto original = tracee.try_read_bytes(RemotePtr(addr), length);
  if (!original) return std::nullopt;
  Code jump(addr);
  jump.jump({0xe9}, counter.code_);
  Bytes patch = jump.bytes();
  patch.resize(length, 0xcc);  // what nothing may jump to traps, rather than runs on
  if (!tracee.write_bytes(RemotePtr(addr), patch)) return std::nullopt;
  counter.original_ = std::move(*original);
  TTDB_LOG(replay, "arrival counter at {:#x} ({} bytes moved), limit {}", addr, length, where.limit);
  return counter;
}

bool ArrivalCounter::take_trap(Tracee& tracee) const {
  Registers regs = tracee.regs();
  if (regs.rip != trap_rip_) return false;
  std::uint64_t saved = 0;
  if (tracee.read_some(RemotePtr(data_ + kSavedRax), &saved, sizeof saved) != sizeof saved) return false;
  // lahf put SF ZF AF PF CF in ah, seto put OF in al.
  constexpr std::uint64_t kArith = 0x8d5;
  std::uint64_t ah = (regs.rax >> 8) & 0xd5, of = (regs.rax & 0xff) ? 0x800 : 0;
  regs.eflags = (regs.eflags & ~kArith) | ah | of;
  regs.rax = saved;
  regs.rip = where_.addr;
  tracee.set_regs(regs);
  return true;
}

std::uint64_t ArrivalCounter::executions(Tracee& tracee) const {
  std::uint64_t remaining = 0;
  if (tracee.read_some(RemotePtr(data_ + kRemaining), &remaining, sizeof remaining) != sizeof remaining) return 0;
  return initial_ - remaining;
}

std::uint64_t ArrivalCounter::arrivals(Tracee& tracee) const {
  std::uint64_t executed = executions(tracee);
  std::uint64_t skipped = where_.standing ? 1 : 0;
  return executed > skipped ? executed - skipped : 0;
}

bool ArrivalCounter::passes_through(std::uint64_t addr) const {
  if (addr <= where_.addr || addr > straight_end_) return false;
  return std::any_of(moved_.begin(), moved_.end(), [&](const auto& m) { return m.second == addr; });
}

std::optional<std::uint64_t> ArrivalCounter::original_pc(std::uint64_t pc) const {
  for (const auto& [copy, original] : moved_)
    if (pc == copy) return original;
  return std::nullopt;
}

void ArrivalCounter::remove(Tracee& tracee) const { tracee.write_bytes(RemotePtr(where_.addr), original_); }

}  // namespace ttdb
