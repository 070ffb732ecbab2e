#include "ttdb/tracer/exec_stack.h"

#include <elf.h>

#include "ttdb/base/error.h"
#include "ttdb/tracer/proc_maps.h"

namespace ttdb {

InitialStack prepare_initial_stack(Tracee& tracee) {
  InitialStack stack;
  stack.sp = RemotePtr(tracee.regs().rsp);
  auto mapping = mapping_containing(read_maps(tracee.tid()), stack.sp.addr());
  if (!mapping) fail("the program's stack pointer {:#x} is outside any mapping at exec", stack.sp.addr());
  stack.top = RemotePtr(mapping->end);

  // Layout: argc, argv[], NULL, envp[], NULL, then (type, value) pairs.
  RemotePtr cursor = stack.sp;
  auto argc = tracee.read_value<std::uint64_t>(cursor);
  cursor = cursor + 8 * (argc + 2);
  while (tracee.read_value<std::uint64_t>(cursor) != 0) cursor = cursor + 8;
  cursor = cursor + 8;
  for (;; cursor = cursor + 16) {
    auto type = tracee.read_value<std::uint64_t>(cursor);
    if (type == AT_NULL) break;
    if (type == AT_SYSINFO_EHDR) tracee.write_value<std::uint64_t>(cursor, AT_IGNORE);
    if (type == AT_RANDOM) stack.at_random = RemotePtr(tracee.read_value<std::uint64_t>(cursor + 8));
  }
  return stack;
}

}  // namespace ttdb
