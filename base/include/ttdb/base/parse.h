// Numbers in text a user typed (commands, options, file names). One checked
// parser for all of ttdb: too large, empty or trailing junk is nullopt, never
// an exception or a wrapped value.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ttdb {

// All of `text` as an unsigned number. Base 0 reads C's forms: 0x1f, 017, 15.
std::optional<std::uint64_t> parse_uint(std::string_view text, int base = 10);
// Like parse_uint, with an optional leading '-' or '+'.
std::optional<std::int64_t> parse_int(std::string_view text, int base = 10);

}  // namespace ttdb
