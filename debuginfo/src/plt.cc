#include "plt.h"

#include <gelf.h>

#include <cstring>

namespace ttdb {

namespace {

constexpr std::uint64_t kStubSize = 16;  // x86-64's PLT entries, with or without IBT

Elf_Scn* section_named(Elf* elf, const char* name, GElf_Shdr& header) {
  std::size_t names = 0;
  if (elf_getshdrstrndx(elf, &names) != 0) return nullptr;
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
    if (!gelf_getshdr(scn, &header)) continue;
    const char* found = elf_strptr(elf, names, header.sh_name);
    if (found && std::strcmp(found, name) == 0) return scn;
  }
  return nullptr;
}

}  // namespace

std::optional<PltStub> plt_stub_at(Dwfl_Module* module, std::uint64_t addr) {
  Dwarf_Addr bias = 0;
  Elf* elf = module ? dwfl_module_getelf(module, &bias) : nullptr;
  if (!elf) return std::nullopt;
  std::uint64_t at = addr - bias;
  // With IBT, .plt.sec holds a stub per relocation; else .plt does, after
  // its first entry (the resolver's).
  GElf_Shdr plt{};
  std::uint64_t first = 0;
  Elf_Scn* stubs = section_named(elf, ".plt.sec", plt);
  if (!stubs) {
    stubs = section_named(elf, ".plt", plt);
    first = kStubSize;
  }
  if (!stubs || at < plt.sh_addr + first || at >= plt.sh_addr + plt.sh_size) return std::nullopt;
  std::uint64_t index = (at - plt.sh_addr - first) / kStubSize;

  GElf_Shdr rela_header{};
  Elf_Scn* rela = section_named(elf, ".rela.plt", rela_header);
  Elf_Data* relocations = rela ? elf_getdata(rela, nullptr) : nullptr;
  if (!relocations || rela_header.sh_entsize == 0 || index >= rela_header.sh_size / rela_header.sh_entsize) return std::nullopt;
  GElf_Rela relocation;
  if (!gelf_getrela(relocations, static_cast<int>(index), &relocation)) return std::nullopt;
  Elf_Scn* symbols = elf_getscn(elf, rela_header.sh_link);
  GElf_Shdr symbols_header{};
  Elf_Data* symbol_data = symbols ? elf_getdata(symbols, nullptr) : nullptr;
  GElf_Sym symbol;
  if (!symbol_data || !gelf_getshdr(symbols, &symbols_header) ||
      !gelf_getsym(symbol_data, static_cast<int>(GELF_R_SYM(relocation.r_info)), &symbol))
    return std::nullopt;
  const char* name = elf_strptr(elf, symbols_header.sh_link, symbol.st_name);
  if (!name || !*name) return std::nullopt;
  return PltStub{std::string(name) + "@plt", plt.sh_addr + first + index * kStubSize + bias};
}

}  // namespace ttdb
