#include "ttdb/gdbserver/files.h"

#include <elf.h>
#include <fmt/format.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "ttdb/gdbserver/packets.h"
#include "ttdb/base/error.h"
#include "ttdb/base/parse.h"

namespace ttdb::gdb {
namespace {

std::optional<std::uint64_t> read_word(Engine& engine, std::uint64_t addr, std::size_t size = 8) {
  auto bytes = engine.read_memory(addr, size);
  if (!bytes || bytes->size() != size) return std::nullopt;
  std::uint64_t value = 0;
  std::memcpy(&value, bytes->data(), size);
  return value;
}

// A NUL-terminated string of the program's, page by page (the string may end
// just before an unmapped page).
std::string read_string(Engine& engine, std::uint64_t addr) {
  std::string out;
  while (out.size() < 4096) {
    std::size_t n = 0x1000 - (addr & 0xfff);
    auto bytes = engine.read_memory(addr, n);
    if (!bytes || bytes->empty()) break;
    auto end = std::find(bytes->begin(), bytes->end(), 0);
    out.append(bytes->begin(), end);
    if (end != bytes->end()) break;
    addr += n;
  }
  return out;
}

std::string xml_escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

// The program's r_debug: the dynamic section's DT_DEBUG, found through the
// program headers the kernel passed in the auxiliary vector. 0 before the
// dynamic linker has filled it in, and for a static program.
std::uint64_t r_debug_address(Engine& engine, const std::string& auxv) {
  auto phdr = auxv_value(auxv, AT_PHDR), phnum = auxv_value(auxv, AT_PHNUM);
  if (!phdr || !phnum || *phnum > 256) return 0;
  std::optional<std::uint64_t> bias, dynamic;
  for (std::uint64_t i = 0; i < *phnum; ++i) {
    auto type = read_word(engine, *phdr + i * sizeof(Elf64_Phdr), 4);
    auto vaddr = read_word(engine, *phdr + i * sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, p_vaddr));
    if (!type || !vaddr) return 0;
    if (*type == PT_PHDR) bias = *phdr - *vaddr;
    if (*type == PT_DYNAMIC) dynamic = *vaddr;
  }
  if (!dynamic) return 0;
  std::uint64_t at = bias.value_or(0) + *dynamic;
  for (int i = 0; i < 1024; ++i, at += sizeof(Elf64_Dyn)) {
    auto tag = read_word(engine, at), value = read_word(engine, at + 8);
    if (!tag || *tag == DT_NULL) return 0;
    if (*tag == DT_DEBUG) return value.value_or(0);
  }
  return 0;
}

// [start, end) of the vDSO's image, from its own program headers.
std::pair<std::uint64_t, std::uint64_t> vdso_range(Engine& engine, const std::string& auxv) {
  auto ehdr = auxv_value(auxv, AT_SYSINFO_EHDR);
  if (!ehdr || *ehdr == 0) return {0, 0};
  auto phoff = read_word(engine, *ehdr + offsetof(Elf64_Ehdr, e_phoff));
  auto phnum = read_word(engine, *ehdr + offsetof(Elf64_Ehdr, e_phnum), 2);
  if (!phoff || !phnum) return {0, 0};
  std::uint64_t end = *ehdr;
  for (std::uint64_t i = 0; i < std::min<std::uint64_t>(*phnum, 64); ++i) {
    std::uint64_t at = *ehdr + *phoff + i * sizeof(Elf64_Phdr);
    auto type = read_word(engine, at, 4), vaddr = read_word(engine, at + offsetof(Elf64_Phdr, p_vaddr)),
         memsz = read_word(engine, at + offsetof(Elf64_Phdr, p_memsz));
    if (type && vaddr && memsz && *type == PT_LOAD) end = std::max(end, *ehdr + *vaddr + *memsz);
  }
  return {*ehdr, end};
}

}  // namespace

std::optional<std::uint64_t> auxv_value(const std::string& auxv, std::uint64_t type) {
  for (std::size_t at = 0; at + 16 <= auxv.size(); at += 16) {
    std::uint64_t key, value;
    std::memcpy(&key, auxv.data() + at, 8);
    std::memcpy(&value, auxv.data() + at + 8, 8);
    if (key == type) return value;
    if (key == AT_NULL) break;
  }
  return std::nullopt;
}

std::string libraries_svr4(Engine& engine, const std::string& auxv, std::string_view annex) {
  std::uint64_t lm = 0, prev = 0;
  bool whole = annex.empty();
  if (whole) {
    std::uint64_t r_debug = r_debug_address(engine, auxv);
    if (r_debug) lm = read_word(engine, r_debug + offsetof(struct r_debug, r_map)).value_or(0);
  } else {
    for (auto part : split(annex, ';')) {
      auto equals = part.find('=');
      if (equals == std::string_view::npos) continue;
      auto value = parse_hex(part.substr(equals + 1)).value_or(0);
      if (part.substr(0, equals) == "start") lm = value;
      if (part.substr(0, equals) == "prev") prev = value;
    }
  }
  auto [vdso_start, vdso_end] = vdso_range(engine, auxv);
  std::string header = "<library-list-svr4 version=\"1.0\"", libraries;
  for (int count = 0; lm != 0 && count < 100'000; ++count) {
    auto name = read_word(engine, lm + offsetof(link_map, l_name)), addr = read_word(engine, lm + offsetof(link_map, l_addr)),
         ld = read_word(engine, lm + offsetof(link_map, l_ld)), next = read_word(engine, lm + offsetof(link_map, l_next)),
         previous = read_word(engine, lm + offsetof(link_map, l_prev));
    if (!name || !addr || !ld || !next || !previous || *previous != prev) break;  // a list being changed
    if (whole && prev == 0) {
      header += fmt::format(" main-lm=\"0x{:x}\"", lm);  // the first entry is the program itself
    } else if (*ld < vdso_start || *ld >= vdso_end) {
      std::string path = *name ? read_string(engine, *name) : "";
      if (!path.empty())
        libraries += fmt::format("<library name=\"{}\" lm=\"0x{:x}\" l_addr=\"0x{:x}\" l_ld=\"0x{:x}\" lmid=\"0x0\"/>", xml_escaped(engine.local_path(path)),
                                 lm, *addr, *ld);
    }
    prev = lm;
    lm = *next;
  }
  return header + ">" + libraries + "</library-list-svr4>";
}

}  // namespace ttdb::gdb
