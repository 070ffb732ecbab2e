// Instructions whose results differ from run to run: rdtsc/rdtscp (made to
// fault by PR_SET_TSC, or, while recording a process whose clock reads run
// in its vDSO, found and replaced by int3) and rdrand/rdseed (found with
// capstone and replaced by int3, since these machines cannot make them
// fault). The tracer runs them itself when recording, and writes the
// recorded results when replaying.
//
// And, in replay, the `xsavec` of glibc's lazy-binding trampolines: what it
// writes depends on XINUSE, which the CPU may clear for a register set in
// its initial state at any moment (measured: 13% of xsavecs of the same
// state differ on these AMD machines), so two replays of one stretch would
// leave different bytes on the stack. Replay runs it itself, as a CPU that
// keeps every component in use would (see emulate_xsavec).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "ttdb/base/bytes.h"
#include "ttdb/tracer/proc_maps.h"
#include "ttdb/tracer/tracee.h"

namespace ttdb {

inline constexpr std::uint8_t kInt3 = 0xcc;

// rdtsc (0f 31) or rdtscp (0f 01 f9) at pc, if that is what is there.
struct TscInsn {
  bool rdtscp = false;
  int length = 2;
};
std::optional<TscInsn> tsc_instruction_at(Tracee& tracee, RemotePtr pc);

struct TscValue {
  std::uint64_t tsc = 0;
  std::uint32_t aux = 0;  // rdtscp's TSC_AUX (the CPU number)
};
TscValue host_tsc(const TscInsn& insn);
// Sets the registers as the instruction at `at` would have, and moves past it.
void emulate_tsc(Tracee& tracee, const TscInsn& insn, std::uint64_t at, const TscValue& value);

enum class NondetInsn : std::uint8_t { rdrand, rdseed, rdtsc, rdtscp, xsavec };

struct RandSite {
  std::uint64_t addr = 0;
  int length = 0;
  NondetInsn insn = NondetInsn::rdrand;
  int reg = 0;        // rdrand/rdseed's destination, in x86 encoding order (0 = rax ... 15 = r15)
  int width = 32;     // 16, 32 or 64 bits
  std::uint8_t first_byte = 0;  // the byte the int3 replaced
  bool seed() const { return insn == NondetInsn::rdseed; }
  bool tsc() const { return insn == NondetInsn::rdtsc || insn == NondetInsn::rdtscp; }
  bool xsave() const { return insn == NondetInsn::xsavec; }
  TscInsn tsc_insn() const { return TscInsn{insn == NondetInsn::rdtscp, length}; }
};

class RandPatcher {
 public:
  // Whether the next scans put int3 on rdtsc and rdtscp too, or leave them
  // to fault by PR_SET_TSC. The sites patched already stay patched.
  void patch_tsc(bool on) { tsc_ = on; }
  bool patches_tsc() const { return tsc_; }
  // Puts the program's rdtsc and rdtscp back where int3 replaced them.
  void unpatch_tsc(Tracee& tracee);
  // Finds rdrand/rdseed (and rdtsc/rdtscp, see patch_tsc) in `code` (mapped
  // at `start`) and puts int3 on each. Returns how many it patched.
  int scan_and_patch(Tracee& tracee, std::uint64_t start, ByteView code);
  // The same for `size` bytes of a file's code freshly mapped at `start`
  // from `offset`: `file` (its content hash) names the bytes, so a module
  // that every process of a tree maps at the same place is read and
  // scanned once.
  int scan_and_patch_file(Tracee& tracee, std::uint64_t start, std::uint64_t size, const ContentHash& file,
                          std::uint64_t offset);
  // Replay: puts int3 on the xsavec of glibc's lazy-binding trampolines in
  // the dynamic loader's code among `maps` (at exec). Returns how many.
  int patch_loader_xsave(Tracee& tracee, const std::vector<Mapping>& maps);
  bool patches_xsave() const;
  // Takes their int3s out for a while (false), or puts them back.
  void arm_xsave(Tracee& tracee, bool armed);
  // Puts those xsavecs back (the program goes on live).
  void unpatch_xsave(Tracee& tracee);
  // Scans every executable mapping of the process (at exec; `maps` are its
  // mappings). A mapping of a file in `hashes` (path -> content hash) is
  // scanned by scan_and_patch_file, without reading it.
  int scan_process(Tracee& tracee, const std::vector<Mapping>& maps, const std::map<std::string, ContentHash>& hashes = {});
  // Forgets sites in an unmapped range.
  void forget(std::uint64_t start, std::uint64_t end);
  // mremap moved [from, from + old_size) to `to`, now new_size long: the
  // sites go with their memory (their int3s did), a shrunk range's end is
  // unmapped.
  void remapped(std::uint64_t from, std::uint64_t old_size, std::uint64_t new_size, std::uint64_t to);
  // Whether it has int3s in place (a trap at one forces SIGTRAP through the
  // program's mask and action).
  bool has_sites() const { return !sites_.empty(); }
  // The site whose int3 the tracee just hit (it stopped with pc = site + 1).
  const RandSite* site_for_trap(std::uint64_t pc) const;
  // The byte an int3 replaced at `addr`, if ttdb put one there.
  std::optional<std::uint8_t> original_byte(std::uint64_t addr) const;
  // Puts the program's own instructions back at every site, and forgets
  // them (the program runs on without ttdb: go-live).
  void unpatch_all(Tracee& tracee);

  static std::uint64_t host_random(const RandSite& site);
  static void emulate(Tracee& tracee, const RandSite& site, std::uint64_t value);
  // Runs the xsavec site the tracee stands on (or just trapped at) as if
  // the CPU held every component it saves in use: all of them written,
  // each bit of XSTATE_BV set. The range written, or nullopt when it cannot
  // (an unaligned or unwritable area): the caller runs the instruction.
  static std::optional<std::pair<std::uint64_t, std::uint64_t>> emulate_xsavec(Tracee& tracee, const RandSite& site);

 private:
  int patch(Tracee& tracee, const std::vector<RandSite>& sites);
  void unpatch_if(Tracee& tracee, const std::function<bool(const RandSite&)>& which);
  std::unordered_map<std::uint64_t, RandSite> sites_;
  bool tsc_ = false;
};

// Pure decoding helper, exposed for tests: every rdrand, rdseed, rdtsc and
// rdtscp instruction in `code` (which starts at address `start`).
std::vector<RandSite> find_rand_instructions(std::uint64_t start, ByteView code);

// Where glibc's lazy-binding trampolines (and its TLS descriptors') save the
// vector registers with `xsavec 0x40(%rsp)` in `code` (mapped at `start`).
std::vector<std::uint64_t> find_loader_xsavec(std::uint64_t start, ByteView code);

// A `syscall` instruction in `code` (mapped at `start`), confirmed by
// disassembly: where ttdb makes the program run syscalls of its own.
std::optional<std::uint64_t> find_syscall_instruction(std::uint64_t start, ByteView code);

}  // namespace ttdb
