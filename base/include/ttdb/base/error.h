// Errors that reach a user.
//
// ttdb has one error convention: a failure the user must hear about is thrown
// as ttdb::Error carrying one sentence (what failed, on what, what to do);
// only the front end catches and prints it. Routine outcomes, such as a tracee
// that died, are return values, never exceptions.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace ttdb {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A broken invariant inside ttdb itself: a bug, not bad input.
class InternalError : public std::logic_error {
 public:
  explicit InternalError(const std::string& message) : std::logic_error(message) {}
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

// The text of an errno value, for messages ("No such file or directory").
std::string errno_text(int error);

}  // namespace ttdb

// An assertion that stays on in release builds and says what it expected.
#define TTDB_CHECK(cond, ...)                                                          \
  do {                                                                                 \
    if (!(cond))                                                                       \
      throw ::ttdb::InternalError(fmt::format("{}:{}: check '{}' failed: {}", __FILE__, \
                                              __LINE__, #cond, fmt::format(__VA_ARGS__))); \
  } while (0)
