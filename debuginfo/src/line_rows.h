// The line table as gdb reads it. gcc gives a line one row per basic block
// of it (a loop's condition, a call's return), told apart by discriminators;
// gdb keeps only the first of consecutive rows of a line when any of them
// has a non-zero discriminator (its dwarf_record_line_p), so that a step
// does not stop in the middle of such a line. ttdb's line steps stop where
// gdb's do only if they see the same rows.
#pragma once

#include <elfutils/libdw.h>

#include <cstddef>
#include <optional>

namespace ttdb {

// gdb's rule, applied to the rows of a line table one after another in
// address order: whether each folds into the row before it.
class RowFolding {
 public:
  bool folds(Dwarf_Line* row);

 private:
  int line_ = 0;
  const char* file_ = nullptr;
  bool open_ = false;           // a row came before, in the same sequence
  bool discriminated_ = false;  // a row of this run of the line had a discriminator
};

// Whether gdb folds row `i` of `lines` into the row before it.
bool folded_into_previous_row(Dwarf_Lines* lines, std::size_t i);

// The row that starts at `addr` (an address in the CU, without the module's bias).
std::optional<std::size_t> row_starting_at(Dwarf_Lines* lines, std::size_t n, Dwarf_Addr addr);

}  // namespace ttdb
