#include "ttdb/debuginfo/types.h"

#include <fmt/format.h>

#include <map>

namespace ttdb {
namespace {

// The declarator part around `inner` ("*", "[4]"): C puts arrays and
// functions after the name and pointers before it.
std::string declare(const Type& t, const std::string& inner) {
  switch (t.kind) {
    case Type::Kind::pointer: {
      const Type& pointee = t.target ? *t.target : *void_type();
      bool needs_parens = pointee.kind == Type::Kind::array || pointee.kind == Type::Kind::function;
      std::string name = "*" + inner;
      return declare(pointee, needs_parens ? "(" + name + ")" : name);
    }
    case Type::Kind::array:
      return declare(*t.target, inner + (t.count ? fmt::format("[{}]", t.count) : std::string("[]")));
    case Type::Kind::function: {
      std::string params;
      for (const auto& p : t.params) params += (params.empty() ? "" : ", ") + p->display();
      return declare(t.target ? *t.target : *void_type(), inner + "(" + (params.empty() ? "void" : params) + ")");
    }
    default: break;
  }
  std::string base;
  switch (t.kind) {
    case Type::Kind::structure: base = "struct " + (t.name.empty() ? "{...}" : t.name); break;
    case Type::Kind::union_: base = "union " + (t.name.empty() ? "{...}" : t.name); break;
    case Type::Kind::enumeration: base = "enum " + (t.name.empty() ? "{...}" : t.name); break;
    default: base = t.name.empty() ? "void" : t.name;
  }
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
