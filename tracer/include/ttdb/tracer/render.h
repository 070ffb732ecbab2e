// Events as people read them: syscalls the way strace prints them.
#pragma once

#include <string>

#include "ttdb/trace/event.h"

namespace ttdb {

// "openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3", "--- SIGALRM ---"...
std::string render_event(const trace::Event& event);
// Just the call, without its result: "write(1, "hi\n", 3)".
std::string render_call(const trace::Event& event);
// "-1 ENOENT (No such file or directory)", "3", "0x7ffff7fc1000".
std::string render_result(const trace::Event& event);

}  // namespace ttdb
