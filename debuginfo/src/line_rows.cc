#include "line_rows.h"

#include <cstring>

namespace ttdb {

namespace {

bool same_line(int line, const char* file, int other_line, const char* other_file) {
  return line == other_line && file && other_file && std::strcmp(file, other_file) == 0;
}

}  // namespace

bool RowFolding::folds(Dwarf_Line* row) {
  int line = 0;
  bool ends = false;
  unsigned int discriminator = 0;
  dwarf_lineno(row, &line);
  dwarf_lineendsequence(row, &ends);
  dwarf_linediscriminator(row, &discriminator);
  const char* file = dwarf_linesrc(row, nullptr, nullptr);
  bool same = open_ && same_line(line, file, line_, file_);
  discriminated_ = (same && discriminated_) || discriminator != 0;
  line_ = line;
  file_ = file;
  open_ = !ends;
  return same && discriminated_;
}

bool folded_into_previous_row(Dwarf_Lines* lines, std::size_t i) {
  // From the first row of this run of the line.
  auto line_of = [&](std::size_t j, int& line, bool& ends) {
    dwarf_lineno(dwarf_onesrcline(lines, j), &line);
    dwarf_lineendsequence(dwarf_onesrcline(lines, j), &ends);
    return dwarf_linesrc(dwarf_onesrcline(lines, j), nullptr, nullptr);
  };
  int line = 0, before_line = 0;
  bool ends = false, before_ends = false;
  const char* file = line_of(i, line, ends);
  std::size_t start = i;
  while (start > 0) {
    const char* before_file = line_of(start - 1, before_line, before_ends);
    if (before_ends || !same_line(before_line, before_file, line, file)) break;
    --start;
  }
  RowFolding folding;
  bool folded = false;
  for (std::size_t j = start; j <= i; ++j) folded = folding.folds(dwarf_onesrcline(lines, j));
  return folded;
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
