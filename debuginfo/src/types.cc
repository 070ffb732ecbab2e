#include "ttdb/debuginfo/types.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

namespace ttdb {
namespace {

// The template arguments of `name` ("std::vector<int, std::allocator<int> >"
// gives "int" and "std::allocator<int>"), split where no bracket is open;
// nullopt when it is not a template's name.
std::optional<std::pair<std::string, std::vector<std::string>>> template_parts(const std::string& name) {
  auto open = name.find('<');
  if (open == std::string::npos || name.back() != '>') return std::nullopt;
  std::vector<std::string> args;
  std::string current;
  int depth = 0;
  for (std::size_t i = open + 1; i + 1 < name.size(); ++i) {
    char c = name[i];
    if (c == '<') ++depth;
    if (c == '>') --depth;
    if (c == ',' && depth == 0) {
      args.push_back(current);
      current.clear();
      continue;
    }
    if (!(c == ' ' && current.empty())) current += c;
  }
  while (!current.empty() && current.back() == ' ') current.pop_back();
  args.push_back(current);
  return std::pair{name.substr(0, open), args};
}

// A C++ standard library name as gdb's libstdc++ type printers write it:
// without the arguments that are the defaults ("std::vector<int>",
// "std::map<std::string, int>"), std::string for its basic_string.
std::string simplified(const std::string& name) {
  auto parts = template_parts(name);
  if (!parts || !name.starts_with("std::")) return name;
  // (Named, not a structured binding: clang 14, which builds the fuzz targets, cannot capture one.)
  const std::string& base = parts->first;
  std::vector<std::string>& args = parts->second;
  static const char* kDefaults[] = {"std::allocator<", "std::char_traits<", "std::less<", "std::default_delete<",
                                    "std::hash<", "std::equal_to<"};
  while (args.size() > 1 && std::any_of(std::begin(kDefaults), std::end(kDefaults),
                                        [&](const char* d) { return args.back().starts_with(d); }))
    args.pop_back();
  for (auto& a : args) a = simplified(a);
  if ((base == "std::__cxx11::basic_string" || base == "std::basic_string") && args.size() == 1 && args[0] == "char")
    return "std::string";
  std::string out = base + "<";
  for (std::size_t i = 0; i < args.size(); ++i) out += (i ? ", " : "") + args[i];
  return out + (out.back() == '>' ? " >" : ">");
}

// The declarator part around `inner` ("*", "[4]"): C puts arrays and
// functions after the name and pointers before it.
std::string declare(const Type& t, const std::string& inner) {
  switch (t.kind) {
    case Type::Kind::pointer: {
      const Type& pointee = t.target ? *t.target : *void_type();
      bool needs_parens = pointee.kind == Type::Kind::array || pointee.kind == Type::Kind::function;
      std::string name = (t.reference.empty() ? "*" : t.reference) + inner;
      return declare(pointee, needs_parens ? "(" + name + ")" : name);
    }
    case Type::Kind::array:
      return declare(*t.target, inner + (t.count ? fmt::format("[{}]", t.count) : std::string("[]")));
    case Type::Kind::function: {
      std::string params;
      for (const auto& p : t.params) params += (params.empty() ? "" : ", ") + p->display();
      if (params.empty() && !t.unprototyped) params = "void";
      return declare(t.target ? *t.target : *void_type(), inner + "(" + params + ")");
    }
    default: break;
  }
  std::string base;
  switch (t.kind) {
    case Type::Kind::structure: base = t.cplusplus && !t.name.empty() ? simplified(t.name) : "struct " + (t.name.empty() ? "{...}" : t.name); break;
    case Type::Kind::union_: base = t.cplusplus && !t.name.empty() ? t.name : "union " + (t.name.empty() ? "{...}" : t.name); break;
    case Type::Kind::enumeration: base = t.cplusplus && !t.name.empty() ? t.name : "enum " + (t.name.empty() ? "{...}" : t.name); break;
    default: base = t.name.empty() ? "void" : t.name;
  }
  if (t.is_const) base = "const " + base;
  if (inner.empty()) return base;
  return base + (inner[0] == '*' || inner[0] == '(' ? " " : " ") + inner;
}

TypeRef make_base(Type::Kind kind, const char* name, std::uint64_t size, bool is_signed) {
  auto t = std::make_shared<Type>();
  t->kind = kind;
  t->name = name;
  t->size = size;
  t->is_signed = is_signed;
  return t;
}

}  // namespace

std::string Type::display() const {
  std::string out = declare(*this, "");
  // "int (int)" not "int  (int)"; "char *" keeps its space.
  return out;
}

std::string Type::declaration(const std::string& declared) const { return declare(*this, declared); }

TypeRef void_type() {
  static const TypeRef v = make_base(Type::Kind::void_, "void", 1, false);
  return v;
}

TypeRef make_pointer(TypeRef target) {
  auto t = std::make_shared<Type>();
  t->kind = Type::Kind::pointer;
  t->size = 8;
  t->target = std::move(target);
  return t;
}

TypeRef base_type_named(const std::string& name) {
  using K = Type::Kind;
  static const std::map<std::string, TypeRef> types = {
      {"char", make_base(K::character, "char", 1, true)},
      {"signed char", make_base(K::character, "signed char", 1, true)},
      {"unsigned char", make_base(K::character, "unsigned char", 1, false)},
      {"short", make_base(K::integer, "short", 2, true)},
      {"unsigned short", make_base(K::integer, "unsigned short", 2, false)},
      {"int", make_base(K::integer, "int", 4, true)},
      {"unsigned", make_base(K::integer, "unsigned int", 4, false)},
      {"unsigned int", make_base(K::integer, "unsigned int", 4, false)},
      {"long", make_base(K::integer, "long", 8, true)},
      {"unsigned long", make_base(K::integer, "unsigned long", 8, false)},
      {"long long", make_base(K::integer, "long long", 8, true)},
      {"unsigned long long", make_base(K::integer, "unsigned long long", 8, false)},
      {"_Bool", make_base(K::boolean, "_Bool", 1, false)},
      {"bool", make_base(K::boolean, "_Bool", 1, false)},
      {"float", make_base(K::floating, "float", 4, true)},
      {"double", make_base(K::floating, "double", 8, true)},
      {"void", void_type()},
      {"int8_t", make_base(K::character, "int8_t", 1, true)},
      {"uint8_t", make_base(K::character, "uint8_t", 1, false)},
      {"int16_t", make_base(K::integer, "int16_t", 2, true)},
      {"uint16_t", make_base(K::integer, "uint16_t", 2, false)},
      {"int32_t", make_base(K::integer, "int32_t", 4, true)},
      {"uint32_t", make_base(K::integer, "uint32_t", 4, false)},
      {"int64_t", make_base(K::integer, "int64_t", 8, true)},
      {"uint64_t", make_base(K::integer, "uint64_t", 8, false)},
      {"size_t", make_base(K::integer, "size_t", 8, false)},
  };
  auto it = types.find(name);
  return it == types.end() ? nullptr : it->second;
}

}  // namespace ttdb
