// gdb's rule for x86-64 (amd64_skip_prologue, skip_prologue_sal), which
// users compare ttdb with:
// - a line-table row marked prologue_end (clang emits them) is the answer;
// - in a unit GCC compiled with location lists (optimized code), gdb trusts
//   the variables' locations everywhere and skips nothing: the function's
//   first instruction;
// - otherwise a frame set up with `push %rbp; mov %rsp,%rbp` (after an
//   optional endbr64) ends there, and a function without one has no
//   prologue to skip: optimized code stops at its first instruction, not
//   inside its first loop;
// - an end in the middle of a line-table row moves on to the next row.
#include "prologue.h"

#include "dwarf_util.h"

#include <elfutils/libdw.h>
#include <gelf.h>

#include <array>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace ttdb {
namespace {

// The 8 bytes of the module's code at `addr`, from its file.
std::optional<std::array<std::uint8_t, 8>> code_at(Dwfl_Module* mod, std::uint64_t addr) {
  GElf_Addr bias = 0;
  Elf* elf = dwfl_module_getelf(mod, &bias);
  if (!elf) return std::nullopt;
  std::uint64_t file_addr = addr - bias;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn))) {
    GElf_Shdr shdr;
    if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_PROGBITS || !(shdr.sh_flags & SHF_EXECINSTR)) continue;
    if (file_addr < shdr.sh_addr || file_addr + 8 > shdr.sh_addr + shdr.sh_size) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (!data || !data->d_buf || file_addr - shdr.sh_addr + 8 > data->d_size) return std::nullopt;
    std::array<std::uint8_t, 8> out;
    std::memcpy(out.data(), static_cast<const std::uint8_t*>(data->d_buf) + (file_addr - shdr.sh_addr), out.size());
    return out;
  }
  return std::nullopt;
}

// Where `push %rbp; mov %rsp,%rbp` at `low` ends, or `low` without it.
std::uint64_t frame_setup_end(Dwfl_Module* mod, std::uint64_t low) {
  auto code = code_at(mod, low);
  if (!code) return low;
  const std::uint8_t* p = code->data();
  std::size_t skip = 0;
  static constexpr std::uint8_t kEndbr64[] = {0xf3, 0x0f, 0x1e, 0xfa};
  if (std::memcmp(p, kEndbr64, 4) == 0) skip = 4;
  if (skip + 4 > code->size() || p[skip] != 0x55) return low;  // push %rbp
  const std::uint8_t* mov = p + skip + 1;
  bool moves_rsp_to_rbp = mov[0] == 0x48 && ((mov[1] == 0x89 && mov[2] == 0xe5) || (mov[1] == 0x8b && mov[2] == 0xec));
  return moves_rsp_to_rbp ? low + skip + 4 : low;
}

struct Rows {
  std::set<std::uint64_t> starts;             // every row's address in the function
  std::optional<std::uint64_t> prologue_end;  // the first row marked so
};

Rows rows_of(Dwfl_Module* mod, std::uint64_t low, std::uint64_t high) {
  Rows rows;
  Dwarf_Addr bias = 0;
  Dwarf_Die* cu = dwfl_module_addrdie(mod, low, &bias);
  Dwarf_Lines* lines = nullptr;
  std::size_t n = 0;
  if (!cu || dwarf_getsrclines(cu, &lines, &n) != 0) return rows;
  for (std::size_t i = 0; i < n; ++i) {
    Dwarf_Line* l = dwarf_onesrcline(lines, i);
    Dwarf_Addr addr = 0;
    bool end = false, prologue_end = false;
    dwarf_lineaddr(l, &addr);
    addr += bias;
    dwarf_lineendsequence(l, &end);
    dwarf_lineprologueend(l, &prologue_end);
    if (addr < low || addr >= high || end) continue;
    rows.starts.insert(addr);
    if (prologue_end && (!rows.prologue_end || addr < *rows.prologue_end)) rows.prologue_end = addr;
  }
  return rows;
}

// Whether any variable of the unit is described by a location list.
bool has_location_lists(Dwarf_Die* scope) {
  bool found = false;
  for_each_child(scope, [&](Dwarf_Die* child) {
    if (found) return;
    Dwarf_Attribute attr;
    int tag = dwarf_tag(child);
    if ((tag == DW_TAG_variable || tag == DW_TAG_formal_parameter) && dwarf_attr(child, DW_AT_location, &attr)) {
      unsigned form = dwarf_whatform(&attr);
      found = form == DW_FORM_sec_offset || form == DW_FORM_loclistx || form == DW_FORM_data4 || form == DW_FORM_data8;
    }
    if (!found && dwarf_haschildren(child)) found = has_location_lists(child);
  });
  return found;
}

// gdb trusts the variables' locations of a unit GCC compiled with location
// lists (optimized code: its locations_valid), and then skips no prologue.
bool locations_valid(Dwfl_Module* mod, std::uint64_t low) {
  static std::map<std::pair<std::string, Dwarf_Off>, bool> known;
  Dwarf_Addr bias = 0;
  Dwarf_Die* cu = dwfl_module_addrdie(mod, low, &bias);
  if (!cu) return false;
  const char* name = dwfl_module_info(mod, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
  auto key = std::pair{std::string(name ? name : ""), dwarf_dieoffset(cu)};
  if (auto it = known.find(key); it != known.end()) return it->second;
  Dwarf_Attribute attr;
  const char* producer = dwarf_attr(cu, DW_AT_producer, &attr) ? dwarf_formstring(&attr) : nullptr;
  bool gcc = producer && std::string_view(producer).starts_with("GNU ");
  return known[key] = gcc && has_location_lists(cu);
}

}  // namespace

std::uint64_t after_prologue(Dwfl_Module* mod, std::uint64_t low, std::uint64_t high) {
  Rows rows = rows_of(mod, low, high);
  if (rows.prologue_end) return *rows.prologue_end;
  if (locations_valid(mod, low)) return low;
  std::uint64_t pc = frame_setup_end(mod, low);
  if (pc == low || rows.starts.count(pc)) return pc;
  auto next = rows.starts.upper_bound(pc);
  return next != rows.starts.end() ? *next : pc;
}

}  // namespace ttdb
