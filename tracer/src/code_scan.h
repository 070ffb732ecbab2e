// What ttdb needs to know about the program's machine code before it moves
// some of it elsewhere (syscall sites, arrival counters): where instructions
// start and which of them branches reach, and where a page of ttdb's own
// code fits within a rel32 jump's reach.
#pragma once

#include <capstone/capstone.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "ttdb/base/bytes.h"
#include "ttdb/tracer/proc_maps.h"
#include "ttdb/tracer/tracee.h"

namespace ttdb {

inline constexpr std::uint64_t kPage = 4096;
inline constexpr std::uint64_t kReach = (1ull << 31) - (1ull << 20);  // what a rel32 jump reaches, with a margin

// Instruction starts and direct branch targets of one function, by capstone
// (sorted, for lookups).
struct Sweep {
  std::vector<std::uint64_t> starts, targets;
  bool starts_at(std::uint64_t a) const { return std::binary_search(starts.begin(), starts.end(), a); }
  bool targeted(std::uint64_t a) const { return std::binary_search(targets.begin(), targets.end(), a); }
};

// Sweeps `code[from, to)`; addresses are offsets into `code`.
Sweep sweep_function(csh handle, ByteView code, std::uint64_t from, std::uint64_t to);

// Whether `insn` (decoded with details) is in capstone's group `group`.
bool in_group(const cs_insn& insn, std::uint8_t group);

// Instructions of the program that run the same anywhere once each
// rip-relative displacement is made to reach the same place again: no
// branch, call or return, nothing that traps or enters the kernel.
class MovableCode {
 public:
  // The instructions of `code`, which the program has at `from`, decoded
  // with `detail` (a handle with CS_OPT_DETAIL on). nullopt when one cannot
  // move, or `code` does not end with a whole instruction.
  static std::optional<MovableCode> of(csh detail, ByteView code, std::uint64_t from);
  // The same, decoded before: `displacements` says, for each rip-relative
  // instruction, where in `code` its displacement is and where it ends.
  using Displacement = std::pair<std::uint8_t, std::uint8_t>;
  static MovableCode known(ByteView code, std::uint64_t from, const std::vector<Displacement>& displacements);
  std::vector<Displacement> displacements() const;
  // Their bytes, to run at `to`; nullopt when a displacement would not reach.
  std::optional<Bytes> at(std::uint64_t to) const;

 private:
  Bytes bytes_;
  struct Reach {
    std::size_t disp_at, insn_end;  // in bytes_: where the displacement is, where its instruction ends
    std::uint64_t target;           // what it reaches
  };
  std::vector<Reach> reaches_;
};
// One instruction of the program (decoded with details), to run at `to`:
// its rip-relative displacement, if any, made to reach the same place.
// nullopt when it would not reach. (Whether the instruction may run
// elsewhere at all is the caller's to say.)
std::optional<Bytes> moved_instruction(const cs_insn& insn, std::uint64_t to);

// Where a page of `size` bytes fits within reach of [low, high), never above
// a module (the heap grows there): right below the closest mapping under
// `low`, or as far below as reach allows (out of the way of the kernel's
// own choices for mmap, for pages that exist only in replay).
enum class Placement { closest, farthest };
std::optional<std::uint64_t> place_page(const std::vector<Mapping>& maps, std::uint64_t low, std::uint64_t high,
                                        std::uint64_t size, Placement placement = Placement::closest);

// The function around `pc` in the stopped program, from the unwind table
// (.eh_frame_hdr) of the ELF module whose header is mapped at or below it:
// [start, end), or nullopt for code outside any module (JIT code).
std::optional<std::pair<std::uint64_t, std::uint64_t>> function_around(Tracee& tracee, std::uint64_t pc);

}  // namespace ttdb
