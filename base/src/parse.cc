#include "ttdb/base/parse.h"

#include <charconv>
#include <limits>

namespace ttdb {

std::optional<std::uint64_t> parse_uint(std::string_view text, int base) {
  if (base == 0) {
    base = 10;
    if (text.size() > 1 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
      base = 16;
      text.remove_prefix(2);
    } else if (text.size() > 1 && text[0] == '0') {
      base = 8;
      text.remove_prefix(1);
    }
  }
  std::uint64_t value = 0;
  // from_chars takes no sign and no prefix: "0x", "-", " " stay as junk.
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_int(std::string_view text, int base) {
  bool negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) return std::nullopt;
  auto magnitude = parse_uint(text, base);
  if (!magnitude) return std::nullopt;
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (*magnitude > max + (negative ? 1 : 0)) return std::nullopt;
  return negative ? static_cast<std::int64_t>(0 - *magnitude) : static_cast<std::int64_t>(*magnitude);
}

}  // namespace ttdb
