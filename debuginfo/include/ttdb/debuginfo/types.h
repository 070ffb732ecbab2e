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
  bool is_base = false;  // C++: a base class's part, named after the base
  bool artificial = false;  // made by the compiler (a vtable pointer)
  enum class Access { public_, protected_, private_ } access = Access::public_;
};

// C++: a member function, as a class declares it ("void deposit(int)").
struct Method {
  std::string declaration;
  Member::Access access = Member::Access::public_;
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
  bool unprototyped = false;     // function: declared without its parameters, "()"
  // integer: a flags register's named bits (bit number), printed as gdb
  // prints $eflags: "[ PF ZF IF ]".
  std::vector<std::pair<std::string, unsigned>> flag_bits;
  // C++ (a type of a C++ compile unit): names are written without "struct",
  // with their namespaces and classes ("std::vector<int, std::allocator<int> >").
  bool cplusplus = false;
  std::string reference;  // pointer: "&" or "&&" for a C++ reference
  bool is_const = false;  // C++: declared const (C's qualifiers are not shown)
  bool is_class = false;  // declared `class` (members private by default)
  std::vector<Method> methods;
  std::vector<std::pair<std::string, TypeRef>> template_types;  // DW_TAG_template_type_param, in order

  bool is_scalar() const {
    return kind == Kind::integer || kind == Kind::boolean || kind == Kind::character || kind == Kind::floating ||
           kind == Kind::pointer || kind == Kind::enumeration;
  }
  bool is_integral() const {
    return kind == Kind::integer || kind == Kind::boolean || kind == Kind::character || kind == Kind::enumeration;
  }
  // As C writes it: "int", "char *", "struct point", "int [4]", "int (int)".
  std::string display() const;
  // A declaration of `name` of this type: "int square(int)", "char *names[4]".
  std::string declaration(const std::string& declared) const;
};

// The base types a cast may name ("unsigned long", "char", "double"...);
// nullptr when `name` is not one.
TypeRef base_type_named(const std::string& name);
TypeRef make_pointer(TypeRef target);
TypeRef void_type();

}  // namespace ttdb
