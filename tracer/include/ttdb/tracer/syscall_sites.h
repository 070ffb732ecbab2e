// Syscall instructions rewritten to enter the syscall buffer.
//
// A site is a `syscall` instruction and what follows it in the same
// function when that only looks at the result (glibc's `cmp rax, -4095` or
// `test eax, eax; jne`), at least 5 bytes in all. Those bytes become a jump
// to the site's trampoline, which calls the shim and then runs the displaced
// instructions itself, as done, slow (the syscall traced) or stop tails.
// Sites are found in the ELF file the program maps, from function starts
// its unwind table gives, so that only real instruction boundaries are
// patched.
//
// A patch is recorded as an event, which recording and replay apply alike.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "ttdb/base/bytes.h"
#include "ttdb/trace/event.h"
#include "ttdb/tracer/proc_maps.h"
#include "ttdb/tracer/tracee.h"

namespace ttdb {

// An instruction that followed the syscall, run by the trampoline instead.
struct DisplacedInsn {
  // ret: the wrapper returns right after its syscall (getuid's); the bytes
  // after it up to the patch's end are padding before the next function.
  enum class Op : std::uint8_t { cmp, test, jcc, ret };
  Op op = Op::cmp;
  std::uint8_t width = 64;   // cmp, test: 64 (rax) or 32 (eax)
  std::uint8_t cond = 0;     // jcc: the condition, as the opcode's low nibble
  std::int64_t imm = 0;      // cmp: the immediate, sign-extended
  std::uint64_t target = 0;  // jcc: where it goes when taken
  bool operator==(const DisplacedInsn&) const = default;
};

struct SyscallSite {
  std::uint64_t addr = 0;    // the syscall instruction
  std::uint8_t length = 0;   // the bytes the patch covers, from addr
  // What follows the syscall, as the trampoline's tails run it and the
  // tracer emulates it; or, `after` empty, the instructions themselves,
  // moved (`displaced`, their bytes as the program has them: from trace
  // format 15, such as glibc's `mov %eax,%edx; neg %edx`), which the
  // tracer does not emulate: a thread stopped before them in a tail runs
  // them there.
  std::vector<DisplacedInsn> after;
  // An rdtsc site rather than a syscall's (shim version 7): its trampoline
  // enters the shim for the time stamp counter, then runs the instructions
  // after the rdtsc that the patch covers, moved (`displaced`; `after` is
  // empty).
  bool tsc = false;
  Bytes displaced;
  // A syscall site whose tails run the program's instructions, moved.
  bool moves_code() const { return !tsc && !displaced.empty(); }
  // Its moved instructions that are rip-relative: where in `displaced` the
  // displacement is and where the instruction ends (found with the site,
  // so that patching needs no disassembler).
  std::vector<std::pair<std::uint8_t, std::uint8_t>> rip_relative;
  bool operator==(const SyscallSite&) const = default;
};

// The sites in the part of ELF file `elf` that the program mapped at
// `start` (`size` bytes from file offset `offset`).
std::vector<SyscallSite> find_syscall_sites(ByteView elf, std::uint64_t start, std::uint64_t size, std::uint64_t offset);

// The rdtsc sites a patch event rewrites (their int3s are gone under its
// jumps).
std::vector<std::uint64_t> tsc_sites_in(const trace::Event& patch);

// Sites as bytes (a patch event's info, the site cache); nullopt for bytes
// that do not hold sites.
Bytes serialize_sites(const std::vector<SyscallSite>& sites);
std::optional<std::vector<SyscallSite>> deserialize_sites(ByteView bytes);

// The patched sites of one process and their trampolines: plain data, so
// that a replay checkpoint can keep a copy.
class SyscallPatcher {
 public:
  // Where trampolines jump: the shim's entry, and its entry for the sites of
  // the vDSO's function stubs (`call_sites`), which the program calls as
  // functions.
  // And (version 7) its entry for rdtsc sites.
  struct Entries {
    std::uint64_t general = 0, call = 0, tsc = 0;
    const std::vector<std::uint64_t>* call_sites = nullptr;
    std::uint64_t of(const SyscallSite& site) const;
  };
  // Recording: patches `sites` (of one module, from find_syscall_sites),
  // with a page of trampolines near them that jump to `entries`, and
  // returns the patch event. nullopt when there is no room for the
  // trampolines. `out_of_the_way`: as far below the sites as a jump
  // reaches, rather than right below them, where the kernel would put the
  // program's next mapping (for sites patched before the program maps
  // anything, whose page would move all its mappings). The first such
  // page is mapped with room after it (kTrampolineArea): the pages of the
  // modules the program maps later go there when their sites reach it,
  // written without a mapping of their own.
  // `maps`: the process's mappings when the caller has them (sorted, as
  // read_maps gives them); the trampolines' page is added to them. Read
  // when needed and not given.
  std::optional<trace::Event> patch_sites(Tracee& tracee, std::uint64_t syscall_insn, const Entries& entries,
                                          const std::vector<SyscallSite>& sites, bool out_of_the_way = false,
                                          std::vector<Mapping>* maps = nullptr);
  // Recording and replay: maps the trampolines a patch event describes and
  // rewrites its sites. Throws ttdb::Error when the place is taken.
  void apply(Tracee& tracee, std::uint64_t syscall_insn, const trace::Event& patch);

  // (miss: an rdtsc trampoline's int3 for a replay whose shim has no
  // recorded value to give: shim_abi.h.)
  enum class Where { elsewhere, entry, done_tail, slow_tail, stop_tail, miss };
  Where where(std::uint64_t pc) const;
  // Whether `pc` is in a slow tail past its syscall or rdtsc: among the
  // instructions moved there.
  bool past_slow_call(std::uint64_t pc) const;
  // The site whose trampoline holds `pc`.
  std::optional<std::uint64_t> site_of(std::uint64_t pc) const;
  // Where the trampoline of the rdtsc site at `site` runs the instruction
  // itself (its slow tail), and where its stop tail begins, if `site` is
  // such a site.
  std::optional<std::uint64_t> tsc_slow_tail(std::uint64_t site) const;
  std::optional<std::uint64_t> tsc_stop_tail(std::uint64_t site) const;

  // A patched site's first byte: what runs there is a syscall, hooked.
  bool is_site(std::uint64_t pc) const { return originals().count(pc) != 0; }
  // Where the program's instruction at `addr` runs when a patched site's
  // jump covers it (one its trampoline moved, after the syscall or rdtsc):
  // the same instruction in each of the trampoline's tails. Empty for any
  // other address.
  std::vector<std::uint64_t> moved_copies(std::uint64_t addr) const;
  // The program's address of the moved instruction at `pc` in a tail; for
  // any other place in a trampoline, the address after the site's syscall
  // or rdtsc (which runs, or ran, in the shim); nullopt outside them.
  std::optional<std::uint64_t> program_address(std::uint64_t pc) const;
  // The same for a moved instruction's copy alone (nullopt elsewhere).
  std::optional<std::uint64_t> moved_original(std::uint64_t pc) const;
  // Where a site's trampoline goes back to, when `pc` is its jump back
  // there (after the moved instructions of its done or slow tail).
  std::optional<std::uint64_t> way_back(std::uint64_t pc) const;
  // The program stands in a tail past the syscall (its result is in rax):
  // moves it to where the original instructions lead, with the flags they
  // set, and rcx and r11 as the kernel leaves them. False when it is not
  // in such a place.
  bool finish_tail(Tracee& tracee) const;
  // The program stands just past a slow tail's syscall, about to run the
  // copies of the instructions the patch moved: rcx as the program's own
  // syscall instruction leaves it, orig_rax as the shim's call leaves it
  // (no syscall of the kernel's in progress). False when it is not there.
  bool stay_past_syscall(Tracee& tracee) const;
  // The byte the patch replaced at `addr`, if any: what the program's code holds.
  std::optional<std::uint8_t> original_byte(std::uint64_t addr) const;
  // Puts the program's own instructions back at every site, and forgets
  // them (the trampolines stay mapped, for a thread still in one).
  void unpatch_all(Tracee& tracee);
  // The same for the rdtsc sites alone: the program asks for rdtsc to fault
  // (PR_SET_TSC), and takes each fault at its own instruction, with its
  // registers as they were (a trampoline's entry would have changed rdx).
  void unpatch_tsc(Tracee& tracee);
  // Puts the program's own instructions back at the sites in [start, end),
  // and forgets them: code about to move (mremap), whose jumps would no
  // longer reach their trampolines. True when an rdtsc site was among them
  // (the caller has it trap again, as a scan would).
  bool unpatch_range(Tracee& tracee, std::uint64_t start, std::uint64_t end);
  // True when [start, end) covers a page of trampolines.
  bool overlaps_trampolines(std::uint64_t start, std::uint64_t end) const;
  // The pages of trampolines, {start, end}.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> trampoline_pages() const;
  // Forgets sites in an unmapped range.
  void forget(std::uint64_t start, std::uint64_t end);
  std::size_t site_count() const { return originals().size(); }

 private:
  // What a patch put in place is shared with the copies a fork makes (a
  // process's copy of its parent's patcher, which most often execs at once:
  // libc's hundreds of sites were copied and freed at every fork): the
  // pages' sites never change, the bytes the patches replaced are copied
  // before a change only while shared.
  struct Page {
    std::uint64_t addr = 0, size = 0;
    std::shared_ptr<const std::vector<SyscallSite>> sites;  // trampoline i serves sites[i]
  };
  using Originals = std::map<std::uint64_t, std::vector<std::uint8_t>>;  // site -> the bytes the patch replaced
  const Originals& originals() const;
  Originals& own_originals();
  const Page* page_of(std::uint64_t pc) const;
  // A site's trampoline: where it begins, and the site.
  struct Slot {
    std::uint64_t start = 0;
    const SyscallSite* site = nullptr;
  };
  // The trampoline holding `pc`, and `pc`'s offset in it.
  std::optional<std::pair<Slot, std::uint64_t>> slot_at(std::uint64_t pc) const;
  // The trampoline of the site at `addr`.
  std::optional<Slot> slot_of_site(std::uint64_t addr) const;
  // apply's steps: the trampolines' page mapped (or its place in the area
  // checked), and the sites' bytes rewritten, their own bytes kept.
  void map_trampolines(Tracee& tracee, std::uint64_t syscall_insn, const trace::Event& patch);
  void rewrite_sites(Tracee& tracee, const trace::Event& patch);
  // Runs `site`'s displaced instructions from the `next` one, by their
  // effect (flags, the branch), to `rip` or the branch's target.
  static void run_displaced(Tracee& tracee, const SyscallSite& site, std::size_t next, std::uint64_t rip);

  // Room for the pages of later modules, mapped with the first page out
  // of the way: [start, end), of which [start, used) holds pages.
  struct Area {
    std::uint64_t start = 0, end = 0, used = 0;
  };
  std::optional<std::uint64_t> place_in_area(std::uint64_t size, std::uint64_t low, std::uint64_t high) const;

  std::vector<Page> pages_;
  Area area_;
  std::shared_ptr<Originals> originals_;
};

// The bytes mapped with the first out-of-the-way page of trampolines, for
// the pages of modules mapped later (an injected mmap less for each).
inline constexpr std::uint64_t kTrampolineArea = 256 * 1024;

// A patch event's arguments (docs/trace-format.md): a0 where its page of
// trampolines is, a1 its size; a3 the bytes it maps there when more than
// its page (an area); a4 kInArea when the page lies in an area an earlier
// patch mapped, and the event maps nothing.
inline constexpr std::uint64_t kInArea = 1;

class RandPatcher;

// At the entry of a call that changes the program's code under the patches,
// in recording and replay alike: PR_SET_TSC puts the program's own rdtsc
// back at every rdtsc site (SyscallPatcher::unpatch_tsc), mremap the sites
// of the code it moves (unpatch_range), an rdtsc among them getting the
// int3 a scan of `rand` gives it.
void unpatch_before_call(Tracee& tracee, SyscallPatcher& sites, RandPatcher& rand, long nr, const std::uint64_t* args);

// The x86 flags an instruction sets (CF PF AF ZF SF OF), computed by this CPU
// running it: exactly what the program would see. Exposed for tests.
std::uint64_t arithmetic_flags(const DisplacedInsn& insn, std::uint64_t rax);
bool condition_holds(std::uint8_t cond, std::uint64_t eflags);

}  // namespace ttdb
