#include "line_rows.h"

#include <cstring>

namespace ttdb {

namespace {

struct RowKey {
  int line = 0;
  const char* file = nullptr;
  bool ends_sequence = false;
  int discriminator = 0;
};

RowKey key_of(Dwarf_Line* l) {
  RowKey k;
  dwarf_lineno(l, &k.line);
  k.file = dwarf_linesrc(l, nullptr, nullptr);
  dwarf_lineendsequence(l, &k.ends_sequence);
  unsigned int discriminator = 0;
  dwarf_linediscriminator(l, &discriminator);
  k.discriminator = static_cast<int>(discriminator);
  return k;
}

bool same_line(const RowKey& a, const RowKey& b) {
  return a.line == b.line && a.file && b.file && std::strcmp(a.file, b.file) == 0;
}

}  // namespace

bool folded_into_previous_row(Dwarf_Lines* lines, std::size_t i) {
  RowKey row = key_of(dwarf_onesrcline(lines, i));
  // Back to the first row of this run of the line.
  std::size_t start = i;
  while (start > 0) {
    RowKey before = key_of(dwarf_onesrcline(lines, start - 1));
    if (before.ends_sequence || !same_line(before, row)) break;
    --start;
  }
  if (start == i) return false;
  // gdb's flag: a non-zero discriminator anywhere in the run up to here.
  for (std::size_t j = start; j <= i; ++j)
    if (key_of(dwarf_onesrcline(lines, j)).discriminator != 0) return true;
  return false;
}

std::optional<std::size_t> row_starting_at(Dwarf_Lines* lines, std::size_t n, Dwarf_Addr addr) {
  // Rows are sorted by address; several may share one (the last one counts).
  std::size_t low = 0, high = n;
  while (low < high) {
    std::size_t mid = (low + high) / 2;
    Dwarf_Addr at = 0;
    dwarf_lineaddr(dwarf_onesrcline(lines, mid), &at);
    if (at <= addr) low = mid + 1;
    else high = mid;
  }
  if (low == 0) return std::nullopt;
  Dwarf_Addr at = 0;
  dwarf_lineaddr(dwarf_onesrcline(lines, low - 1), &at);
  if (at != addr) return std::nullopt;
  return low - 1;
}

}  // namespace ttdb
