#include "ttdb/tracer/exec_stack.h"

#include <elf.h>

#include <algorithm>
#include <string_view>

#include "ttdb/base/error.h"
#include "ttdb/tracer/proc_maps.h"

namespace ttdb {

void hide_vdso_functions(Tracee& tracee, std::uint64_t vdso) {
  auto mapping = mapping_containing(read_maps(tracee.tid()), vdso);
  if (!mapping) return;
  auto image = tracee.try_read_bytes(RemotePtr(mapping->start), mapping->end - mapping->start);
  if (!image) return;
  // Same lengths, so that no offset in the image moves.
  static const std::pair<std::string_view, std::string_view> kRenames[] = {
      {"__vdso_", "__ttdb_"}, {"LINUX_2.6", "TTDB__2.6"}, {"LINUX_2.5", "TTDB__2.5"}};
  bool changed = false;
  for (const auto& [from, to] : kRenames) {
    auto begin = reinterpret_cast<char*>(image->data());
    std::string_view text(begin, image->size());
    for (auto at = text.find(from); at != std::string_view::npos; at = text.find(from, at + from.size())) {
      std::copy(to.begin(), to.end(), begin + at);
      changed = true;
    }
  }
  if (changed && !tracee.write_bytes(RemotePtr(mapping->start), *image))
    fail("cannot hide the vDSO's functions from program {}", tracee.tid());
}

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
    if (type == AT_SYSINFO_EHDR) hide_vdso_functions(tracee, tracee.read_value<std::uint64_t>(cursor + 8));
    if (type == AT_RANDOM) stack.at_random = RemotePtr(tracee.read_value<std::uint64_t>(cursor + 8));
  }
  return stack;
}

}  // namespace ttdb
