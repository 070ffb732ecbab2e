// C types as the debugger sees them: read from DWARF, or the base types a
// user names in a cast. Plain data, shared between values.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ttdb {

struct Type;
using TypeRef = std::shared_ptr<const Type>;

struct Member {
  std::string name;
  std::uint64_t offset = 0;
  TypeRef type;
  int bit_size = 0;  // a bit field's width, 0 for ordinary members
  int bit_offset = 0;
};

struct Type {
  enum class Kind { void_, integer, boolean, character, floating, pointer, array, structure, union_, enumeration, function };
  Kind kind = Kind::void_;
  std::string name;  // "int", "point" (without "struct"), "" for anonymous types
  std::uint64_t size = 0;
  bool is_signed = false;
  TypeRef target;          // pointer: the pointee; array: the element; function: the result
  std::uint64_t count = 0; // array: elements (0 when unknown)
  std::vector<Member> members;
  std::vector<std::pair<std::string, std::int64_t>> enumerators;
  std::vector<TypeRef> params;  // function
  // integer: a flags register's named bits (bit number), printed as gdb
  // prints $eflags: "[ PF ZF IF ]".
  std::vector<std::pair<std::string, unsigned>> flag_bits;

  bool is_scalar() const {
    return kind == Kind::integer || kind == Kind::boolean || kind == Kind::character || kind == Kind::floating ||
           kind == Kind::pointer || kind == Kind::enumeration;
  }
  bool is_integral() const {
    return kind == Kind::integer || kind == Kind::boolean || kind == Kind::character || kind == Kind::enumeration;
  }
  // As C writes it: "int", "char *", "struct point", "int [4]", "int (int)".
  std::string display() const;
};

// The base types a cast may name ("unsigned long", "char", "double"...);
// nullptr when `name` is not one.
TypeRef base_type_named(const std::string& name);
TypeRef make_pointer(TypeRef target);
TypeRef void_type();

}  // namespace ttdb
