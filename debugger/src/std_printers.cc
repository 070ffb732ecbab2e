#include "std_printers.h"

#include <fmt/format.h>

#include <cstring>

namespace ttdb {
namespace {

using Kind = Type::Kind;

// gdb's "print elements" limit: longer containers end in "...".
constexpr std::uint64_t kMaxElements = 200;

std::uint64_t read_word(std::uint64_t addr, ExprContext& context) {
  auto bytes = context.read(addr, 8);
  if (!bytes) throw ExprError(fmt::format("cannot access memory at address {:#x}", addr));
  std::uint64_t out = 0;
  std::memcpy(&out, bytes->data(), 8);
  return out;
}

// The first member named `name` (in bases too) that `wanted` accepts.
std::optional<Value> find_member(const Value& v, const std::string& name, const std::function<bool(const Type&)>& wanted) {
  for (const auto& m : v.type->members) {
    if (m.offset + m.type->size > v.bytes.size()) continue;
    Value member = part_of(v, m);
    if (m.name == name && wanted(*m.type)) return member;
    bool nested = (m.is_base || m.name.empty()) && (m.type->kind == Kind::structure || m.type->kind == Kind::union_);
    if (nested)
      if (auto found = find_member(member, name, wanted)) return found;
  }
  return std::nullopt;
}

std::uint64_t alignment_of(const Type& t) {
  switch (t.kind) {
    case Kind::array: return t.target ? alignment_of(*t.target) : 1;
    case Kind::structure:
    case Kind::union_: {
      std::uint64_t most = 1;
      for (const auto& m : t.members) most = std::max(most, alignment_of(*m.type));
      return most;
    }
    default: return std::clamp<std::uint64_t>(t.size, 1, 16);
  }
}

std::uint64_t align_up(std::uint64_t n, std::uint64_t to) { return (n + to - 1) / to * to; }

TypeRef template_type(const Type& t, std::size_t index) {
  if (index >= t.template_types.size()) throw ExprError(fmt::format("{} names no template argument {}", t.display(), index));
  return t.template_types[index].second;
}

// "std::unique_ptr<Account>": the name with its first template argument only, as gdb's printers write it.
std::string short_name(const std::string& prefix, const Type& t) {
  return prefix + "<" + template_type(t, 0)->display() + ">";
}

std::string elements_text(const std::vector<std::string>& items, bool more) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  if (more) out += "...";
  return "{" + out + "}";
}

std::string show_string(const Value& v, ExprContext& context) {
  std::uint64_t data = member_of(member_of(v, "_M_dataplus"), "_M_p").as_uint();
  std::uint64_t length = member_of(v, "_M_string_length").as_uint();
  std::uint64_t shown = std::min<std::uint64_t>(length, kMaxElements);
  auto bytes = shown ? context.read(data, shown) : std::optional<Bytes>(Bytes{});
  if (!bytes) throw ExprError(fmt::format("cannot access memory at address {:#x}", data));
  return quote_chars(*bytes) + (shown < length ? "..." : "");
}

std::string show_vector(const Value& v, ExprContext& context, const ShowElement& show) {
  Value impl = member_of(v, "_M_impl");
  Value start = member_of(impl, "_M_start");
  std::uint64_t first = start.as_uint(), finish = member_of(impl, "_M_finish").as_uint();
  std::uint64_t end = member_of(impl, "_M_end_of_storage").as_uint();
  TypeRef element = start.type->target;
  std::uint64_t size = std::max<std::uint64_t>(element->size, 1);
  std::uint64_t length = (finish - first) / size, capacity = (end - first) / size;
  std::vector<std::string> items;
  for (std::uint64_t i = 0; i < std::min(length, kMaxElements); ++i) items.push_back(show(load(element, first + i * size, context)));
  std::string head = fmt::format("std::vector of length {}, capacity {}", length, capacity);
  return length ? head + " = " + elements_text(items, length > kMaxElements) : head;
}

// A map's (or set's) nodes in order: libstdc++'s red-black tree, whose
// header's left link is the leftmost node; a node's value follows its four
// words (colour, parent, left, right).
std::vector<std::uint64_t> tree_values(const Value& tree, ExprContext& context) {
  Value header = member_of(tree, "_M_header");
  std::uint64_t count = member_of(tree, "_M_node_count").as_uint();
  std::uint64_t head = *header.address;
  std::vector<std::uint64_t> values;
  std::uint64_t node = read_word(head + 16, context);
  while (node && node != head && values.size() < std::min(count, kMaxElements + 1)) {
    values.push_back(node + 32);
    std::uint64_t right = read_word(node + 24, context);
    if (right) {
      node = right;
      while (std::uint64_t left = read_word(node + 16, context)) node = left;
    } else {
      std::uint64_t parent = read_word(node + 8, context);
      while (node == read_word(parent + 24, context)) {
        node = parent;
        parent = read_word(parent + 8, context);
      }
      if (read_word(node + 24, context) != parent) node = parent;
    }
  }
  return values;
}

// "[key] = value" for each pair of a map, laid out as std::pair<const K, V>.
std::string pairs_text(const std::vector<std::uint64_t>& at, const Type& map, ExprContext& context, const ShowElement& show,
                       std::uint64_t count) {
  TypeRef key = template_type(map, 0), mapped = template_type(map, 1);
  std::uint64_t second = align_up(key->size, alignment_of(*mapped));
  std::vector<std::string> items;
  for (std::size_t i = 0; i < at.size() && i < kMaxElements; ++i)
    items.push_back("[" + show(load(key, at[i], context)) + "] = " + show(load(mapped, at[i] + second, context)));
  return elements_text(items, count > kMaxElements);
}

std::string show_map(const Value& v, ExprContext& context, const ShowElement& show) {
  Value tree = member_of(member_of(v, "_M_t"), "_M_impl");
  std::uint64_t count = member_of(tree, "_M_node_count").as_uint();
  std::string head = fmt::format("std::map with {} element{}", count, count == 1 ? "" : "s");
  if (!count) return head;
  return head + " = " + pairs_text(tree_values(tree, context), *v.type, context, show, count);
}

std::string show_unordered_map(const Value& v, ExprContext& context, const ShowElement& show) {
  Value table = member_of(v, "_M_h");
  std::uint64_t count = member_of(table, "_M_element_count").as_uint();
  std::string head = fmt::format("std::unordered_map with {} element{}", count, count == 1 ? "" : "s");
  if (!count) return head;
  // The nodes form one list from _M_before_begin; a node's value follows its link.
  TypeRef key = template_type(*v.type, 0), mapped = template_type(*v.type, 1);
  std::uint64_t value_offset = align_up(8, std::max(alignment_of(*key), alignment_of(*mapped)));
  std::vector<std::uint64_t> values;
  for (std::uint64_t node = member_of(member_of(table, "_M_before_begin"), "_M_nxt").as_uint();
       node && values.size() < std::min(count, kMaxElements + 1); node = read_word(node, context))
    values.push_back(node + value_offset);
  return head + " = " + pairs_text(values, *v.type, context, show, count);
}

std::string show_unique_ptr(const Value& v) {
  // Its pointer is the tuple's first element; the deleter's holder has the same member name.
  Value tuple = member_of(member_of(v, "_M_t"), "_M_t");
  auto pointer = find_member(tuple, "_M_head_impl", [](const Type& t) { return t.kind == Kind::pointer; });
  if (!pointer) throw ExprError("a std::unique_ptr without its pointer: not the libstdc++ layout ttdb knows");
  return short_name("std::unique_ptr", *v.type) + fmt::format(" = {{get() = {:#x}}}", pointer->as_uint());
}

std::string show_shared_ptr(const Value& v, ExprContext& context, const char* kind) {
  std::uint64_t pointer = member_of(v, "_M_ptr").as_uint();
  std::uint64_t counts = member_of(member_of(v, "_M_refcount"), "_M_pi").as_uint();
  std::string state = "empty";
  if (counts) {
    // _Sp_counted_base: a vtable pointer, then the use and weak counts.
    auto bytes = context.read(counts + 8, 8);
    if (!bytes) throw ExprError(fmt::format("cannot access memory at address {:#x}", counts + 8));
    std::int32_t use = 0, weak = 0;
    std::memcpy(&use, bytes->data(), 4);
    std::memcpy(&weak, bytes->data() + 4, 4);
    state = use ? fmt::format("use count {}, weak count {}", use, weak - 1) : fmt::format("expired, weak count {}", weak);
  }
  return short_name(kind, *v.type) + fmt::format(" ({}) = {{get() = {:#x}}}", state, pointer);
}

std::string show_optional(const Value& v, const ShowElement& show) {
  std::string name = short_name("std::optional", *v.type);
  Value holder = member_of(v, "_M_payload");
  if (!member_of(holder, "_M_engaged").as_uint()) return name + " [no contained value]";
  Value payload = member_of(holder, "_M_payload");
  return name + " = {[contained value] = " + show(member_of(payload, "_M_value")) + "}";
}

}  // namespace

std::optional<Value> std_pointer(const Value& v) {
  const Type& t = *v.type;
  if (!t.cplusplus || t.kind != Kind::structure || !t.name.starts_with("std::")) return std::nullopt;
  const std::string& name = t.name;
  try {
    if (name.starts_with("std::unique_ptr<")) {
      Value tuple = member_of(member_of(v, "_M_t"), "_M_t");
      return find_member(tuple, "_M_head_impl", [](const Type& m) { return m.kind == Kind::pointer; });
    }
    if (name.starts_with("std::shared_ptr<") || name.starts_with("std::weak_ptr<")) return member_of(v, "_M_ptr");
    if (name.starts_with("std::vector<") && !name.starts_with("std::vector<bool,"))
      return member_of(member_of(v, "_M_impl"), "_M_start");
    if (name.starts_with("std::__cxx11::basic_string<char,")) return member_of(member_of(v, "_M_dataplus"), "_M_p");
  } catch (const ExprError&) {
    return std::nullopt;  // not the libstdc++ layout ttdb knows
  }
  return std::nullopt;
}

std::optional<std::string> format_std(const Value& v, ExprContext& context, const ShowElement& show) {
  const Type& t = *v.type;
  if (!t.cplusplus || !t.name.starts_with("std::")) return std::nullopt;
  const std::string& name = t.name;
  try {
    if (name.starts_with("std::__cxx11::basic_string<char,")) return show_string(v, context);
    if (name.starts_with("std::vector<") && !name.starts_with("std::vector<bool,")) return show_vector(v, context, show);
    if (name.starts_with("std::map<")) return show_map(v, context, show);
    if (name.starts_with("std::unordered_map<")) return show_unordered_map(v, context, show);
    if (name.starts_with("std::unique_ptr<")) return show_unique_ptr(v);
    if (name.starts_with("std::shared_ptr<")) return show_shared_ptr(v, context, "std::shared_ptr");
    if (name.starts_with("std::weak_ptr<")) return show_shared_ptr(v, context, "std::weak_ptr");
    if (name.starts_with("std::optional<")) return show_optional(v, show);
  } catch (const ExprError& e) {
    // A value in the middle of construction (or not libstdc++'s): raw, as gdb falls back.
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace ttdb
