// The stack's frames, by libdw's unwinder (debuginfo.cc reports the modules).
#pragma once

#include <elfutils/libdwfl.h>
#include <sys/user.h>

#include <vector>

#include "ttdb/debuginfo/debuginfo.h"

namespace ttdb {

// The frames of the program `pid` stopped with `regs`, innermost first, at
// most `limit`. `attached` says whether `dwfl` has the unwinder's callbacks
// already (they are attached on first use).
std::vector<Frame> unwind(Dwfl* dwfl, bool& attached, pid_t pid, const user_regs_struct& regs, std::size_t limit);

}  // namespace ttdb
