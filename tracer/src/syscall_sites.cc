#include "ttdb/tracer/syscall_sites.h"

#include <asm/unistd_64.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cstring>
#include <iterator>

#include "code_scan.h"
#include "shim_abi.h"
#include "ttdb/base/error.h"
#include "ttdb/base/log.h"
#include "ttdb/tracer/inject.h"
#include "ttdb/tracer/nondet_insn.h"
#include "ttdb/tracer/syscall_buffer.h"
#include "ttdb/tracer/syscall_table.h"

namespace ttdb {
namespace {

// Sites' bytes closer than a page are read and written in one go, up to
// this much: only pages that hold sites are written (and copied by the
// kernel), in a few calls instead of one a page.
constexpr std::uint64_t kLongestSpan = 64 << 10;

constexpr std::uint64_t kEflagsArith = 0x8d5;                   // CF PF AF ZF SF OF

constexpr std::uint8_t kRdtsc[] = {0x0f, 0x31};

// --- trampolines -------------------------------------------------------------------

void put32(Bytes& out, std::uint64_t offset, std::int64_t value) {
  auto v = static_cast<std::int32_t>(value);
  std::memcpy(out.data() + offset, &v, 4);
}

// Appends `insn` at `at` in `page` (whose address is `base`); `taken` is
// where a branch goes instead of its target (the stop tail's own int3).
std::uint64_t emit_insn(Bytes& page, std::uint64_t base, std::uint64_t at, const DisplacedInsn& insn,
                        std::optional<std::uint64_t> taken = std::nullopt) {
  std::uint8_t* p = page.data() + at;
  switch (insn.op) {
    case DisplacedInsn::Op::cmp:
      if (insn.width == 64) *p++ = 0x48;
      *p++ = 0x3d;
      std::memcpy(p, &insn.imm, 4);  // little-endian: the low 32 bits
      return at + (insn.width == 64 ? 6 : 5);
    case DisplacedInsn::Op::test:
      if (insn.width == 64) *p++ = 0x48;
      *p++ = 0x85;
      *p = 0xc0;
      return at + (insn.width == 64 ? 3 : 2);
    case DisplacedInsn::Op::jcc:
      p[0] = 0x0f;
      p[1] = static_cast<std::uint8_t>(0x80 | insn.cond);
      put32(page, at + 2, static_cast<std::int64_t>(taken.value_or(insn.target) - (base + at + 6)));
      return at + 6;
    case DisplacedInsn::Op::ret:
      *p = 0xc3;
      return at + 1;
  }
  return at;
}

std::uint64_t emit_jmp(Bytes& page, std::uint64_t base, std::uint64_t at, std::uint64_t target) {
  page[at] = 0xe9;
  put32(page, at + 1, static_cast<std::int64_t>(target - (base + at + 5)));
  return at + 5;
}

// A syscall site's trampoline entry, at `at` in the page: `entry` is
// where in the page the address it jumps to is.
void emit_entry(Bytes& page, std::uint64_t base, std::uint64_t at, std::uint64_t entry) {
  static const std::uint8_t lea_rcx[] = {0x48, 0x8d, 0x0d, 0xf9, 0xff, 0xff, 0xff};  // lea rcx, [rip - 7]
  std::memcpy(page.data() + at, lea_rcx, sizeof lea_rcx);
  page[at + 7] = 0xff;  // jmp [rip + disp32]
  page[at + 8] = 0x25;
  put32(page, at + 9, static_cast<std::int64_t>(base + entry - (base + at + 13)));
}

// One trampoline, at `at` in the page: see shim_abi.h for the layout.
// `entry`: where in the page the address it jumps to is.
void emit_trampoline(Bytes& page, std::uint64_t base, std::uint64_t at, const SyscallSite& site, std::uint64_t entry) {
  std::uint64_t back = site.addr + site.length;
  emit_entry(page, base, at, entry);

  std::uint64_t p = at + TTDB_TAIL_DONE;
  for (const auto& insn : site.after) p = emit_insn(page, base, p, insn);
  emit_jmp(page, base, p, back);

  p = at + TTDB_TAIL_SLOW;
  page[p++] = 0x0f;
  page[p++] = 0x05;
  for (const auto& insn : site.after) p = emit_insn(page, base, p, insn);
  emit_jmp(page, base, p, back);

  // The stop tail: both ways out pass an int3 first. (A site that returns
  // has none: the shim never takes it, shim.c.)
  p = at + TTDB_TAIL_STOP;
  std::uint64_t taken = at + TTDB_TAIL_STOP + 24;
  for (const auto& insn : site.after) p = emit_insn(page, base, p, insn, base + taken);
  page[p++] = 0xcc;
  emit_jmp(page, base, p, back);
  if (!site.after.empty() && site.after.back().op == DisplacedInsn::Op::jcc) {
    page[taken] = 0xcc;
    emit_jmp(page, base, taken + 1, site.after.back().target);
  }
  std::memcpy(page.data() + at + TTDB_TRAMPOLINE_SITE, &site.addr, 8);
}

// The trampoline of an rdtsc site, or of a syscall site that moves code,
// at `at` in the page (shim_abi.h): `moved` is what followed the site's
// rdtsc or syscall, `entry` as for emit_trampoline. False when a moved
// instruction would not reach from there what it reads.
bool emit_moving_trampoline(Bytes& page, std::uint64_t base, std::uint64_t at, const SyscallSite& site,
                            const MovableCode& moved, std::uint64_t entry) {
  std::uint64_t back = site.addr + site.length;
  if (site.tsc) {
    static const std::uint8_t tsc_entry[] = {0x48, 0x89, 0xca,                          // mov rdx, rcx
                                             0x48, 0x8d, 0x0d, 0xf6, 0xff, 0xff, 0xff,  // lea rcx, [rip - 10]
                                             0xff, 0x25};                               // jmp [rip + disp32]
    std::memcpy(page.data() + at, tsc_entry, sizeof tsc_entry);
    put32(page, at + 12, static_cast<std::int64_t>(entry - (at + 16)));
  } else {
    emit_entry(page, base, at, entry);
  }
  // The moved instructions at `p`, then the way back; where that ends.
  auto moved_then_back = [&](std::uint64_t p, bool stop) -> bool {
    auto bytes = moved.at(base + p);
    if (!bytes) return false;
    std::copy(bytes->begin(), bytes->end(), page.begin() + static_cast<std::ptrdiff_t>(p));
    p += bytes->size();
    if (stop) page[p++] = 0xcc;
    emit_jmp(page, base, p, back);
    return true;
  };
  page[at + TTDB_TAIL_SLOW] = 0x0f;  // rdtsc, or syscall
  page[at + TTDB_TAIL_SLOW + 1] = site.tsc ? 0x31 : 0x05;
  if (!moved_then_back(at + TTDB_TAIL_DONE, false) || !moved_then_back(at + TTDB_TAIL_SLOW + 2, false) ||
      !moved_then_back(at + TTDB_TAIL_STOP, true))
    return false;
  if (site.tsc) {
    page[at + TTDB_TAIL_MISS] = 0xcc;
    page[at + TTDB_TAIL_MISS + 1] = 0xeb;  // jmp rel8, to the slow tail
    page[at + TTDB_TAIL_MISS + 2] = static_cast<std::uint8_t>(TTDB_TAIL_SLOW - (TTDB_TAIL_MISS + 3));
  }
  std::memcpy(page.data() + at + TTDB_TRAMPOLINE_SITE, &site.addr, 8);
  return true;
}

}  // namespace

std::uint64_t SyscallPatcher::Entries::of(const SyscallSite& site) const {
  if (site.tsc) return TTDB_PAGE_TSC_ENTRY;
  bool called = call && call_sites && std::find(call_sites->begin(), call_sites->end(), site.addr) != call_sites->end();
  return called ? 8 : 0;
}

std::optional<trace::Event> SyscallPatcher::patch_sites(Tracee& tracee, std::uint64_t syscall_insn, const Entries& entries,
                                                        const std::vector<SyscallSite>& all_sites, bool out_of_the_way,
                                                        std::vector<Mapping>* maps) {
  // The shim's way back to a done or stop tail leaves the flags to the
  // site's first displaced instruction (entry.S): one that is a branch
  // would read them. Such sites (glibc has none) stay traced.
  // An rdtsc site needs the shim's entry for it (version 7).
  std::vector<SyscallSite> patchable;
  std::copy_if(all_sites.begin(), all_sites.end(), std::back_inserter(patchable), [&](const SyscallSite& s) {
    return s.tsc ? entries.tsc != 0 : s.moves_code() || (!s.after.empty() && s.after.front().op != DisplacedInsn::Op::jcc);
  });
  const std::vector<SyscallSite>& sites = patchable;
  if (sites.empty()) return std::nullopt;
  std::uint64_t page_size = (TTDB_TRAMPOLINE_FIRST + sites.size() * TTDB_TRAMPOLINE_SIZE + kPage - 1) / kPage * kPage;
  std::uint64_t low = sites.front().addr, high = sites.back().addr + sites.back().length;
  auto where = place_in_area(page_size, low, high);
  bool in_area = where.has_value();
  bool makes_area = !in_area && out_of_the_way && !area_.end;
  std::uint64_t mapped = makes_area ? std::max(page_size, kTrampolineArea) : page_size;
  if (!in_area) {
    std::vector<Mapping> read;
    if (!maps) read = read_maps(tracee.tid());
    where = place_page(maps ? *maps : read, low, high, mapped, out_of_the_way ? Placement::farthest : Placement::closest);
  }
  if (!where) {
    TTDB_LOG(record, "no room for trampolines near {:#x}: its {} syscall sites stay traced", sites.front().addr, sites.size());
    return std::nullopt;
  }
  std::uint64_t base = *where;
  Bytes page(page_size, 0xcc);
  std::memcpy(page.data(), &entries.general, 8);
  std::memcpy(page.data() + 8, &entries.call, 8);
  std::memcpy(page.data() + TTDB_PAGE_TSC_ENTRY, &entries.tsc, 8);
  trace::Event e;
  e.kind = trace::EventKind::patch;
  e.tid = tracee.tid();
  e.nr = static_cast<std::int64_t>(sites.size());
  e.args = {base, page_size, 0, makes_area ? mapped : 0, in_area ? kInArea : 0, 0};
  trace::MemWrite code;
  code.addr = base;
  code.size = page_size;
  e.mem.push_back(code);
  for (std::size_t k = 0; k < sites.size(); ++k) {
    std::uint64_t at = TTDB_TRAMPOLINE_FIRST + k * TTDB_TRAMPOLINE_SIZE;
    if (!sites[k].after.empty()) {
      emit_trampoline(page, base, at, sites[k], entries.of(sites[k]));
    } else if (!emit_moving_trampoline(page, base, at, sites[k],
                                       MovableCode::known(sites[k].displaced, sites[k].addr + 2, sites[k].rip_relative),
                                       entries.of(sites[k]))) {
      // What it moves reads memory out of reach of the page (a module of
      // gigabytes): the site keeps its int3, the others go on without it.
      std::vector<SyscallSite> rest = sites;
      rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(k));
      return patch_sites(tracee, syscall_insn, entries, rest, out_of_the_way, maps);
    }
    trace::MemWrite jump;
    jump.addr = sites[k].addr;
    jump.size = sites[k].length;
    jump.data.assign(sites[k].length, 0x90);
    jump.data[0] = 0xe9;
    put32(jump.data, 1, static_cast<std::int64_t>(base + at - (sites[k].addr + 5)));
    e.mem.push_back(std::move(jump));
  }
  e.mem[0].data = std::move(page);
  e.info = serialize_sites(sites);
  apply(tracee, syscall_insn, e);
  if (maps && !in_area) add_mapping(*maps, base, base + mapped, PROT_READ | PROT_EXEC);
  TTDB_LOG(record, "{} syscall sites from {:#x} patched, trampolines at {:#x}{}", sites.size(), sites.front().addr, base,
           in_area ? " (in the area)" : makes_area ? fmt::format(" (an area of {} KiB)", mapped / 1024) : "");
  return e;
}

std::optional<std::uint64_t> SyscallPatcher::place_in_area(std::uint64_t size, std::uint64_t low, std::uint64_t high) const {
  std::uint64_t at = area_.used;
  if (!area_.end || area_.end - at < size) return std::nullopt;
  // Every site's jump reaches every byte of the page (both ways), and back.
  if (std::max(high, at + size) - std::min(low, at) > kReach) return std::nullopt;
  return at;
}

void SyscallPatcher::apply(Tracee& tracee, std::uint64_t syscall_insn, const trace::Event& e) {
  std::uint64_t base = e.args[0], size = e.args[1];
  if (e.mem.empty() || e.mem[0].data.size() != size) fail("the patch at event {} is malformed", e.id);
  map_trampolines(tracee, syscall_insn, e);
  if (!tracee.write_bytes(RemotePtr(base), e.mem[0].data)) fail("cannot write trampolines at {:#x}", base);
  auto sites = deserialize_sites(e.info);
  if (!sites) fail("the patch at event {} is malformed", e.id);
  rewrite_sites(tracee, e);
  // Just past one of the sites' syscall (its exit stop), the program would
  // go on in the middle of the new jump: it runs what followed the syscall
  // right now instead.
  std::uint64_t pc = tracee.regs().rip;
  for (const auto& site : *sites) {
    if (!site.after.empty() && pc == site.addr + 2) run_displaced(tracee, site, 0, site.addr + site.length);
    // Its rdtsc may have had ttdb's int3 (RandPatcher): the program's own
    // bytes are the instruction.
    if (site.tsc) std::copy_n(kRdtsc, 2, own_originals()[site.addr].begin());
  }
  pages_.push_back(Page{base, size, std::make_shared<const std::vector<SyscallSite>>(std::move(*sites))});
  // Past one of the sites' rdtsc (replay, patching where the recording's
  // previous event left the thread: its read at that int3) or syscall (its
  // exit), among the instructions moved: it goes on with their copy in the
  // slow tail, which jumps back after them.
  const std::vector<SyscallSite>& placed = *pages_.back().sites;
  for (std::size_t k = 0; k < placed.size(); ++k) {
    const SyscallSite& site = placed[k];
    if (site.displaced.empty() || pc < site.addr + 2 || pc >= site.addr + site.length) continue;
    Registers regs = tracee.regs();
    regs.rip = base + TTDB_TRAMPOLINE_FIRST + k * TTDB_TRAMPOLINE_SIZE + TTDB_TAIL_SLOW + 2 + (pc - site.addr - 2);
    tracee.set_regs(regs);
  }
}

void SyscallPatcher::map_trampolines(Tracee& tracee, std::uint64_t syscall_insn, const trace::Event& e) {
  std::uint64_t base = e.args[0], size = e.args[1], area = e.args[3];
  bool in_area = e.args[4] == kInArea;
  if (area && (in_area || area < size)) fail("the patch at event {} is malformed", e.id);
  if (in_area) {
    // Mapped by an earlier patch (with the first page out of the way).
    if (base < area_.used || base + size > area_.end)
      fail("the patch at event {} puts trampolines at {:#x}, outside the room mapped for them", e.id, base);
    area_.used = base + size;
    return;
  }
  // Mapped executable at once and written through /proc/PID/mem, which
  // writes a private mapping whatever its protection: an injected mprotect
  // less (three stops) for each page, of which every process has a few.
  std::uint64_t mapped = area ? area : size;
  std::int64_t got = inject_syscall(tracee, syscall_insn, __NR_mmap,
                                    {base, mapped, PROT_READ | PROT_EXEC,
                                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, static_cast<std::uint64_t>(-1), 0});
  if (got != static_cast<std::int64_t>(base))
    fail("cannot map the syscall buffer's trampolines at {:#x} (event {}): {}", base, e.id,
         is_error_result(got) ? errno_text(static_cast<int>(-got)) : fmt::format("got {:#x}", got));
  if (area) area_ = Area{base, base + area, base + size};
}

void SyscallPatcher::rewrite_sites(Tracee& tracee, const trace::Event& e) {
  // The sites' bytes are written a span at a time (libc has 450 sites,
  // patched in every process a shell starts), and all the spans are read
  // first, at once.
  struct Span {
    std::size_t first, last;  // e.mem's sites in it
    Bytes bytes;
  };
  std::vector<Span> spans;
  auto end_of = [&](std::size_t i) { return e.mem[i].addr + e.mem[i].data.size(); };
  for (std::size_t k = 1; k < e.mem.size();) {
    std::uint64_t from = e.mem[k].addr;
    std::size_t last = k;
    while (last + 1 < e.mem.size() && e.mem[last + 1].addr >= end_of(last) && e.mem[last + 1].addr - end_of(last) < kPage &&
           end_of(last + 1) - from <= kLongestSpan)
      ++last;
    spans.push_back(Span{k, last, Bytes(end_of(last) - from)});
    k = last + 1;
  }
  std::vector<Tracee::ReadPiece> reads;
  for (auto& span : spans) reads.push_back({RemotePtr(e.mem[span.first].addr), span.bytes});
  if (!tracee.read_scattered(reads))
    fail("cannot read the code at {:#x} whose syscall sites a patch rewrites", e.mem[1].addr);
  Originals& originals = own_originals();
  for (auto& span : spans) {
    std::uint64_t from = e.mem[span.first].addr;
    Bytes& patched = span.bytes;
    for (std::size_t i = span.first; i <= span.last; ++i) {
      const auto& m = e.mem[i];
      auto at = patched.begin() + static_cast<std::ptrdiff_t>(m.addr - from);
      originals[m.addr] = Bytes(at, at + static_cast<std::ptrdiff_t>(m.data.size()));
      std::copy(m.data.begin(), m.data.end(), at);
    }
    if (!tracee.write_bytes(RemotePtr(from), patched)) fail("cannot patch the syscall site at {:#x} (event {})", from, e.id);
  }
}

const SyscallPatcher::Page* SyscallPatcher::page_of(std::uint64_t pc) const {
  for (const auto& p : pages_)
    if (pc >= p.addr + TTDB_TRAMPOLINE_FIRST && pc < p.addr + TTDB_TRAMPOLINE_FIRST + p.sites->size() * TTDB_TRAMPOLINE_SIZE)
      return &p;
  return nullptr;
}

SyscallPatcher::Where SyscallPatcher::where(std::uint64_t pc) const {
  auto slot = slot_at(pc);
  if (!slot) return Where::elsewhere;
  auto [trampoline, at] = *slot;
  if (at < TTDB_TAIL_DONE) return Where::entry;
  if (at < TTDB_TAIL_SLOW) return Where::done_tail;
  if (at < TTDB_TAIL_STOP) return Where::slow_tail;
  return trampoline.site->tsc && at >= TTDB_TAIL_MISS ? Where::miss : Where::stop_tail;
}

bool SyscallPatcher::past_slow_call(std::uint64_t pc) const {
  auto slot = slot_at(pc);
  return slot && slot->second >= TTDB_TAIL_SLOW + 2 && slot->second < TTDB_TAIL_STOP;
}

std::optional<std::uint64_t> SyscallPatcher::site_of(std::uint64_t pc) const {
  auto slot = slot_at(pc);
  if (!slot) return std::nullopt;
  return slot->first.site->addr;
}

std::optional<std::pair<SyscallPatcher::Slot, std::uint64_t>> SyscallPatcher::slot_at(std::uint64_t pc) const {
  const Page* page = page_of(pc);
  if (!page) return std::nullopt;
  std::uint64_t index = (pc - page->addr - TTDB_TRAMPOLINE_FIRST) / TTDB_TRAMPOLINE_SIZE;
  std::uint64_t start = page->addr + TTDB_TRAMPOLINE_FIRST + index * TTDB_TRAMPOLINE_SIZE;
  return std::pair{Slot{start, &(*page->sites)[index]}, pc - start};
}

std::optional<SyscallPatcher::Slot> SyscallPatcher::slot_of_site(std::uint64_t addr) const {
  for (const auto& p : pages_)
    for (std::size_t k = 0; k < p.sites->size(); ++k)
      if ((*p.sites)[k].addr == addr) return Slot{p.addr + TTDB_TRAMPOLINE_FIRST + k * TTDB_TRAMPOLINE_SIZE, &(*p.sites)[k]};
  return std::nullopt;
}

std::optional<std::uint64_t> SyscallPatcher::tsc_slow_tail(std::uint64_t site) const {
  auto slot = slot_of_site(site);
  if (!slot || !slot->site->tsc) return std::nullopt;
  return slot->start + TTDB_TAIL_SLOW;
}

namespace {
// The tails' copies of a site's moved instructions begin at these offsets
// of its trampoline, laid out as in the program (a short branch, last,
// grows in place).
constexpr std::uint64_t kMovedAt[] = {TTDB_TAIL_DONE, TTDB_TAIL_SLOW + 2, TTDB_TAIL_STOP};
}  // namespace

std::vector<std::uint64_t> SyscallPatcher::moved_copies(std::uint64_t addr) const {
  auto patched = originals().upper_bound(addr);
  if (patched == originals().begin()) return {};
  std::uint64_t site = (--patched)->first;
  if (addr < site + 2 || addr >= site + patched->second.size()) return {};
  auto slot = slot_of_site(site);
  if (!slot) return {};
  std::vector<std::uint64_t> copies;
  for (std::uint64_t at : kMovedAt) copies.push_back(slot->start + at + (addr - site - 2));
  return copies;
}

std::optional<std::uint64_t> SyscallPatcher::moved_original(std::uint64_t pc) const {
  auto slot = slot_at(pc);
  if (!slot) return std::nullopt;
  auto [trampoline, at] = *slot;
  const SyscallSite& site = *trampoline.site;
  for (std::uint64_t from : kMovedAt)
    if (at >= from && at < from + site.length - 2u) return site.addr + 2 + (at - from);
  return std::nullopt;
}

std::optional<std::uint64_t> SyscallPatcher::way_back(std::uint64_t pc) const {
  auto slot = slot_at(pc);
  if (!slot) return std::nullopt;
  auto [trampoline, at] = *slot;
  const SyscallSite& site = *trampoline.site;
  // (An rdtsc site's moved bytes are the program's; a syscall site's are
  // laid out as the tails lay them out: a short branch grows.)
  std::uint64_t moved = site.displaced.size();
  if (!site.tsc) {
    Bytes scratch(TTDB_TRAMPOLINE_SIZE);
    for (const auto& insn : site.after) moved = emit_insn(scratch, 0, moved, insn);
  }
  for (std::uint64_t from : {std::uint64_t{TTDB_TAIL_DONE}, std::uint64_t{TTDB_TAIL_SLOW + 2}})
    if (at == from + moved) return site.addr + site.length;
  return std::nullopt;
}

std::optional<std::uint64_t> SyscallPatcher::program_address(std::uint64_t pc) const {
  if (auto moved = moved_original(pc)) return moved;
  if (auto back = way_back(pc)) return back;
  auto site = site_of(pc);
  return site ? std::optional<std::uint64_t>(*site + 2) : std::nullopt;
}

std::optional<std::uint64_t> SyscallPatcher::tsc_stop_tail(std::uint64_t site) const {
  auto slow = tsc_slow_tail(site);
  return slow ? std::optional<std::uint64_t>(*slow - TTDB_TAIL_SLOW + TTDB_TAIL_STOP) : std::nullopt;
}

bool SyscallPatcher::finish_tail(Tracee& tracee) const {
  Registers regs = tracee.regs();
  auto slot = slot_at(regs.rip);
  if (!slot) return false;
  std::uint64_t at = slot->second;
  const SyscallSite& site = *slot->first.site;
  std::uint64_t rip = site.addr + site.length;
  if (!site.displaced.empty()) {
    // Only just past the stop tail's int3 has everything moved run (the
    // rest would take running the program's own instructions).
    if (at != TTDB_TAIL_STOP + site.displaced.size() + 1) return false;
    regs.rip = rip;
    tracee.set_regs(regs);
    return true;
  }

  // Where the displaced instructions still to run begin: the tails lay them
  // out alike (the slow one after its syscall, the stop one before its int3).
  std::uint64_t p;
  if (at >= TTDB_TAIL_STOP + 24) {
    rip = site.after.back().target;  // past the int3 of the stop tail's taken branch
    p = at;
  } else if (at >= TTDB_TAIL_STOP) {
    p = TTDB_TAIL_STOP;
  } else if (at >= TTDB_TAIL_SLOW + 2) {
    p = TTDB_TAIL_SLOW + 2;
  } else if (at >= TTDB_TAIL_DONE && at < TTDB_TAIL_SLOW) {
    p = TTDB_TAIL_DONE;
  } else {
    return false;  // the syscall has not happened yet
  }
  Bytes layout(TTDB_TRAMPOLINE_SIZE);
  std::size_t next = 0;
  while (next < site.after.size() && p < at) p = emit_insn(layout, 0, p, site.after[next++]);
  // At the stop tail's int3, or just past it, everything displaced has run.
  bool at_boundary = p == at || (at >= TTDB_TAIL_STOP && next == site.after.size() && (p == at - 1 || p == at));
  if (!at_boundary && at < TTDB_TAIL_STOP + 24) return false;
  // A branch already taken in the stop tail went to its own int3 (handled above).
  run_displaced(tracee, site, at >= TTDB_TAIL_STOP + 24 ? site.after.size() : next, rip);
  return true;
}

bool SyscallPatcher::stay_past_syscall(Tracee& tracee) const {
  Registers regs = tracee.regs();
  auto slot = slot_at(regs.rip);
  if (!slot || slot->first.site->tsc || slot->second != TTDB_TAIL_SLOW + 2) return false;
  regs.rcx = slot->first.site->addr + 2;
  // As after a call the shim made: the next instruction's registers are the
  // same whichever way replay made the call (the call is over, and is not
  // one the kernel restarts).
  regs.orig_rax = ~std::uint64_t{0};
  tracee.set_regs(regs);
  return true;
}

void SyscallPatcher::run_displaced(Tracee& tracee, const SyscallSite& site, std::size_t next, std::uint64_t rip) {
  Registers regs = tracee.regs();
  std::uint64_t flags = regs.eflags;
  for (std::size_t k = next; k < site.after.size(); ++k) {
    const auto& insn = site.after[k];
    if (insn.op == DisplacedInsn::Op::jcc) {
      if (condition_holds(insn.cond, flags)) rip = insn.target;
      break;
    }
    if (insn.op == DisplacedInsn::Op::ret) {
      rip = tracee.read_value<std::uint64_t>(RemotePtr(regs.rsp));
      regs.rsp += 8;
      break;
    }
    flags = (flags & ~kEflagsArith) | arithmetic_flags(insn, regs.rax);
  }
  regs.eflags = flags;
  regs.rip = rip;
  regs.rcx = site.addr + 2;
  tracee.set_regs(regs);
}

void SyscallPatcher::unpatch_all(Tracee& tracee) {
  for (const auto& [site, bytes] : originals()) tracee.write_bytes(RemotePtr(site), bytes);
  originals_.reset();
}

void SyscallPatcher::unpatch_tsc(Tracee& tracee) {
  // (The trampolines stay, for a thread inside one; nothing enters them again.)
  for (const auto& page : pages_)
    for (const auto& site : *page.sites)
      if (auto original = originals().find(site.addr); site.tsc && original != originals().end()) {
        tracee.write_bytes(RemotePtr(site.addr), original->second);
        own_originals().erase(site.addr);
      }
}

bool SyscallPatcher::unpatch_range(Tracee& tracee, std::uint64_t start, std::uint64_t end) {
  bool tsc = false;
  if (originals().lower_bound(start) == originals().lower_bound(end)) return false;
  Originals& originals = own_originals();
  for (auto site = originals.lower_bound(start); site != originals.end() && site->first < end;) {
    tracee.write_bytes(RemotePtr(site->first), site->second);
    tsc |= site->second.size() >= 2 && site->second[0] == kRdtsc[0] && site->second[1] == kRdtsc[1];
    site = originals.erase(site);
  }
  return tsc;
}

void unpatch_before_call(Tracee& tracee, SyscallPatcher& sites, RandPatcher& rand, long nr, const std::uint64_t* args) {
  if (nr == __NR_prctl && args[0] == PR_SET_TSC) sites.unpatch_tsc(tracee);
  if (nr == __NR_mremap && sites.unpatch_range(tracee, args[0], args[0] + args[1]))
    if (auto code = tracee.try_read_bytes(RemotePtr(args[0]), args[1])) rand.scan_and_patch(tracee, args[0], *code);
}

std::optional<std::uint8_t> SyscallPatcher::original_byte(std::uint64_t addr) const {
  auto it = originals().upper_bound(addr);
  if (it == originals().begin()) return std::nullopt;
  --it;
  if (addr - it->first >= it->second.size()) return std::nullopt;
  return it->second[addr - it->first];
}

bool SyscallPatcher::overlaps_trampolines(std::uint64_t start, std::uint64_t end) const {
  auto overlaps = [&](std::uint64_t from, std::uint64_t to) { return start < to && end > from; };
  return (area_.end && overlaps(area_.start, area_.end)) ||
         std::any_of(pages_.begin(), pages_.end(), [&](const Page& p) { return overlaps(p.addr, p.addr + p.size); });
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> SyscallPatcher::trampoline_pages() const {
  // What ttdb mapped: the area whole (room not yet used too), and the pages outside it.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> pages;
  if (area_.end) pages.emplace_back(area_.start, area_.end);
  for (const auto& p : pages_)
    if (p.addr < area_.start || p.addr >= area_.end) pages.emplace_back(p.addr, p.addr + p.size);
  return pages;
}

void SyscallPatcher::forget(std::uint64_t start, std::uint64_t end) {
  // Only the range: every munmap comes here, and libc alone has hundreds of sites.
  if (start >= end || originals().lower_bound(start) == originals().lower_bound(end)) return;
  Originals& originals = own_originals();
  originals.erase(originals.lower_bound(start), originals.lower_bound(end));
}

const SyscallPatcher::Originals& SyscallPatcher::originals() const {
  static const Originals none;
  return originals_ ? *originals_ : none;
}

SyscallPatcher::Originals& SyscallPatcher::own_originals() {
  if (!originals_) originals_ = std::make_shared<Originals>();
  else if (originals_.use_count() > 1) originals_ = std::make_shared<Originals>(*originals_);
  return *originals_;
}

std::uint64_t arithmetic_flags(const DisplacedInsn& insn, std::uint64_t rax) {
  unsigned long long ax = 0;
  unsigned char overflow = 0;
  auto imm = static_cast<std::uint64_t>(insn.imm);
  if (insn.op == DisplacedInsn::Op::cmp && insn.width == 64)
    asm("cmp %[b], %[a]\n\tlahf\n\tseto %[o]" : "=&a"(ax), [o] "=&q"(overflow) : [a] "r"(rax), [b] "r"(imm) : "cc");
  else if (insn.op == DisplacedInsn::Op::cmp)
    asm("cmp %k[b], %k[a]\n\tlahf\n\tseto %[o]" : "=&a"(ax), [o] "=&q"(overflow) : [a] "r"(rax), [b] "r"(imm) : "cc");
  else if (insn.width == 64)
    asm("test %[a], %[a]\n\tlahf\n\tseto %[o]" : "=&a"(ax), [o] "=&q"(overflow) : [a] "r"(rax) : "cc");
  else
    asm("test %k[a], %k[a]\n\tlahf\n\tseto %[o]" : "=&a"(ax), [o] "=&q"(overflow) : [a] "r"(rax) : "cc");
  return ((ax >> 8) & 0xd5) | (overflow ? 0x800 : 0);
}

bool condition_holds(std::uint8_t cond, std::uint64_t f) {
  bool cf = f & 1, pf = f & 4, zf = f & 64, sf = f & 128, of = f & 2048;
  bool holds = false;
  switch (cond >> 1) {
    case 0: holds = of; break;
    case 1: holds = cf; break;
    case 2: holds = zf; break;
    case 3: holds = cf || zf; break;
    case 4: holds = sf; break;
    case 5: holds = pf; break;
    case 6: holds = sf != of; break;
    default: holds = zf || sf != of; break;
  }
  return (cond & 1) ? !holds : holds;
}

}  // namespace ttdb
