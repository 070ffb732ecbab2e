// Values printed as gdb prints them: scalars in their formats, strings,
// arrays with repeats, structs (pretty or not), and the C++ standard
// library's types through std_printers.
#include <fmt/format.h>

#include <bit>
#include <cstring>

#include "ttdb/debugger/expr.h"
#include "std_printers.h"

namespace ttdb {
namespace {

using Kind = Type::Kind;


std::string char_literal(unsigned char c, char quote) {
  switch (c) {
    case '\n': return "\\n";
    case '\t': return "\\t";
    case '\r': return "\\r";
    case '\a': return "\\a";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\v': return "\\v";
    case '\033': return "\\033";
    case '\\': return "\\\\";
    default: break;
  }
  if (c == static_cast<unsigned char>(quote)) return std::string("\\") + quote;
  if (c < 0x20 || c >= 0x7f) return fmt::format("\\{:03o}", c);
  return std::string(1, static_cast<char>(c));
}

// gdb's way with character arrays: runs of more than 9 equal characters as
// "'c' <repeats N times>", the rest in quotes.

std::string c_string_at(std::uint64_t addr, ExprContext& context) {
  CString s = read_c_string(addr, 200, context);
  if (s.fault && s.text.empty()) return fmt::format("<error: Cannot access memory at address {:#x}>", addr);
  return quote_chars(s.text) + (s.ended ? "" : "...");
}

std::string format_pointer(const Value& v, ExprContext& context, bool top, char format) {
  std::uint64_t addr = v.as_uint();
  if (format && format != 'a') return format_scalar(addr, 8, format, context);
  std::string out = fmt::format("{:#x}", addr);
  const Type* target = v.type->target.get();
  bool is_char = target && target->kind == Kind::character && target->size == 1;
  if (is_char && addr != 0) return out + " " + c_string_at(addr, context);
  if (addr != 0)
    if (auto sym = context.symbolize(addr)) out += " <" + *sym + ">";
  if (top && format != 'a') out = "(" + v.type->display() + ") " + out;
  return out;
}

std::string join(const std::vector<std::string>& items, const std::string& between) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? between : "") + items[i];
  return out;
}

std::string format_inner(const Value& v, ExprContext& context, char format, bool top, int depth, bool raw) {
  const Type& t = *v.type;
  switch (t.kind) {
    case Kind::void_: return "void";
    case Kind::pointer: return format_pointer(v, context, top, format);
    case Kind::function: {
      std::uint64_t addr = v.address.value_or(0);
      auto sym = context.symbolize(addr);
      return fmt::format("{{{}}} {:#x}{}", t.display(), addr, sym ? " <" + *sym + ">" : "");
    }
    case Kind::array: {
      const Type& element = *t.target;
      if (element.kind == Kind::character && element.size == 1 && !format) {
        Bytes chars = v.bytes;
        // A string's terminating NUL is not shown.
        if (!chars.empty() && chars.back() == 0) chars.pop_back();
        return quote_chars(chars);
      }
      std::vector<std::string> items;
      for (std::uint64_t i = 0; i < t.count && (i + 1) * element.size <= v.bytes.size(); ++i) {
        Value e{t.target,
                Bytes(v.bytes.begin() + static_cast<std::ptrdiff_t>(i * element.size),
                      v.bytes.begin() + static_cast<std::ptrdiff_t>((i + 1) * element.size)),
                v.address ? std::optional(*v.address + i * element.size) : std::nullopt};
        items.push_back(format_inner(e, context, format, false, depth + 1, raw));
        if (items.size() >= 200) {
          items.push_back("...");
          break;
        }
      }
      // Runs of the same element: "0 <repeats 16 times>".
      std::string out;
      for (std::size_t i = 0; i < items.size();) {
        std::size_t j = i;
        while (j < items.size() && items[j] == items[i]) ++j;
        out += out.empty() ? "" : ", ";
        if (j - i >= 10) {
          out += fmt::format("{} <repeats {} times>", items[i], j - i);
          i = j;
        } else {
          out += items[i++];
        }
      }
      return "{" + out + "}";
    }
    case Kind::structure:
    case Kind::union_: {
      if (!raw) {
        auto element = [&](const Value& e) { return format_inner(e, context, format, false, depth + 1, raw); };
        if (auto shown = format_std(v, context, element)) return *shown;
      }
      std::vector<std::string> fields;
      bool own_fields = false;
      for (const auto& m : t.members) {
        // Anonymous members and C++ bases are read in place, not by name.
        Value member = m.name.empty() || m.is_base ? part_of(v, m) : member_of(v, m.name);
        std::string label = m.is_base ? "<" + m.name + "> = " : m.name.empty() ? "" : m.name + " = ";
        fields.push_back(label + format_inner(member, context, format, false, depth + 1, raw));
        own_fields = own_fields || !m.is_base;
      }
      // As gdb says of a C++ class without members of its own.
      if (t.cplusplus && !own_fields) fields.push_back("<No data fields>");
      if (!context.pretty() || fields.empty()) return "{" + join(fields, ", ") + "}";
      std::string inside(static_cast<std::size_t>(2 * (depth + 1)), ' ');
      return "{\n" + inside + join(fields, ",\n" + inside) + "\n" + std::string(static_cast<std::size_t>(2 * depth), ' ') + "}";
    }
    case Kind::enumeration: {
      if (!format)
        for (const auto& [name, value] : t.enumerators)
          if (value == v.as_int()) return name;
      return format_scalar(v.as_uint(), t.size, format ? format : 'd', context);
    }
    case Kind::floating:
      if (format && format != 'f') return format_scalar(v.as_uint(), t.size, format, context);
      return t.size == 4 ? fmt::format("{:.9g}", v.as_double()) : fmt::format("{:.17g}", v.as_double());
    case Kind::boolean:
      if (format) return format_scalar(v.as_uint(), t.size, format, context);
      return v.as_uint() == 0 ? "false" : v.as_uint() == 1 ? "true" : std::to_string(v.as_uint());
    case Kind::character:
      if (format && format != 'c') return format_scalar(v.as_uint(), t.size, format, context);
      return fmt::format("{} '{}'", t.is_signed ? v.as_int() : static_cast<std::int64_t>(v.as_uint()),
                         char_literal(static_cast<unsigned char>(v.as_uint()), '\''));
    case Kind::integer:
      if (format) return format_scalar(v.as_uint(), t.size, format, context);
      if (!t.flag_bits.empty()) return flags_text(t, v.as_uint());
      return t.is_signed ? std::to_string(v.as_int()) : std::to_string(v.as_uint());
  }
  return "?";
}

}  // namespace

std::string quote_chars(const Bytes& bytes) {
  constexpr std::size_t kRepeatThreshold = 10;
  std::vector<std::string> parts;
  std::string run;
  for (std::size_t i = 0; i < bytes.size();) {
    std::size_t j = i;
    while (j < bytes.size() && bytes[j] == bytes[i]) ++j;
    if (j - i >= kRepeatThreshold) {
      if (!run.empty()) parts.push_back("\"" + std::exchange(run, {}) + "\"");
      parts.push_back(fmt::format("'{}' <repeats {} times>", char_literal(bytes[i], '\''), j - i));
      i = j;
    } else {
      run += char_literal(bytes[i++], '"');
    }
  }
  if (!run.empty() || parts.empty()) parts.push_back("\"" + run + "\"");
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

std::string flags_text(const Type& type, std::uint64_t raw) {
  std::string set;
  for (const auto& [name, bit] : type.flag_bits)
    if (raw >> bit & 1) set += name + " ";
  return "[ " + set + "]";
}

std::string format_value(const Value& value, ExprContext& context, char format, bool top) {
  if (value.synthetic_pointer) return "<synthetic pointer>";
  if (value.optimized_out) return "<optimized out>";
  if (format == 'r') return format_inner(value, context, 0, top, 0, true);
  return format_inner(value, context, format, top, 0, false);
}

std::string format_scalar(std::uint64_t raw, std::size_t size, char format, ExprContext& context) {
  std::uint64_t mask = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
  raw &= mask;
  switch (format) {
    case 'x': return fmt::format("{:#x}", raw);
    case 'o': return raw ? fmt::format("0{:o}", raw) : "0";
    case 't': return fmt::format("{:b}", raw);
    case 'u': return std::to_string(raw);
    case 'c': return fmt::format("{} '{}'", static_cast<std::int8_t>(raw), char_literal(static_cast<unsigned char>(raw), '\''));
    case 'a': {
      auto sym = context.symbolize(raw);
      return fmt::format("{:#x}{}", raw, sym ? " <" + *sym + ">" : "");
    }
    case 'z': return fmt::format("{:#0{}x}", raw, size * 2 + 2);
    case 'f': {
      if (size == 8) return fmt::format("{:.17g}", std::bit_cast<double>(raw));
      if (size == 4) return fmt::format("{:.9g}", std::bit_cast<float>(static_cast<std::uint32_t>(raw)));
      return std::to_string(raw);
    }
    default: {
      unsigned shift = static_cast<unsigned>(64 - size * 8);
      auto v = size < 8 ? static_cast<std::int64_t>(raw << shift) >> shift : static_cast<std::int64_t>(raw);
      return std::to_string(v);
    }
  }
}

}  // namespace ttdb
