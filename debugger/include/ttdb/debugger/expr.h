// C-like expressions over the replayed program's state, and values printed
// the way gdb prints them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ttdb/base/bytes.h"
#include "ttdb/base/error.h"
#include "ttdb/debuginfo/types.h"

namespace ttdb {

// A bad expression, or one that cannot be evaluated here; the message says why.
class ExprError : public Error {
 public:
  using Error::Error;
};

struct Value {
  TypeRef type;
  Bytes bytes;                           // type->size bytes
  std::optional<std::uint64_t> address;  // set when the value lives in the program's memory
  // The compiler kept no copy here: printed as gdb does, "<optimized out>",
  // and refused by anything that computes with it.
  bool optimized_out = false;
  // A pointer the compiler did away with (it is optimized out as well):
  // printed as gdb does, "<synthetic pointer>".
  bool synthetic_pointer = false;

  std::int64_t as_int() const;
  std::uint64_t as_uint() const;
  double as_double() const;
  bool truthy() const;
};

Value make_int(std::int64_t v, const char* type_name = "long");
// A char array holding `bytes`, not in the program's memory.
Value char_array(Bytes bytes);

// What an expression may look at.
class ExprContext {
 public:
  virtual ~ExprContext() = default;
  virtual std::optional<Bytes> read(std::uint64_t addr, std::size_t size) = 0;
  // A variable in scope (locals, arguments, then globals).
  virtual std::optional<Value> variable(const std::string& name) = 0;
  // $pc, $rax, $event, $1, $, $_... without the '$'.
  virtual std::optional<Value> dollar(const std::string& name) = 0;
  // A type a cast names: "int", "struct point", a typedef.
  virtual TypeRef type_named(const std::string& name) = 0;
  // "counter", "square+4" for an address in the program's code or data.
  virtual std::optional<std::string> symbolize(std::uint64_t addr) = 0;
  // gdb's "set print pretty": a struct's members one per line, indented.
  virtual bool pretty() const { return false; }
};

Value evaluate(const std::string& text, ExprContext& context);

// The NUL-terminated string at `addr`, at most `limit` bytes of it: whether
// its NUL was found, or where reading failed.
struct CString {
  Bytes text;
  bool ended = false;
  std::optional<std::uint64_t> fault;
};
CString read_c_string(std::uint64_t addr, std::size_t limit, ExprContext& context);

// The address a value names (x, break *ADDR, info symbol): a pointer's or a
// number's value, an array's or a function's start.
std::uint64_t decay_address(const Value& value);
// A value as a condition: nonzero is true; arrays and functions are true.
bool decay_truth(const Value& value);

// Why a change to the program is refused, in one sentence's words.
inline constexpr const char* kPastIsReadOnly =
    "the past is read-only: ttdb cannot change the recorded program's memory or registers";

// The part of a struct or union value that member `m` is (as far as the
// value's bytes reach), read in place: no bit field extracted.
Value part_of(const Value& v, const Member& m);
// A struct's or union's member, looked for in anonymous members and C++
// base classes too.
Value member_of(const Value& v, const std::string& name);
// The value of `type` at `addr` in the program's memory.
Value load(const TypeRef& type, std::uint64_t addr, ExprContext& context);
// Bytes as a C string literal: "ab\n".
std::string quote_chars(const Bytes& bytes);

// gdb's print formats: 0 natural, 'x', 'd', 'u', 'o', 't', 'c', 'a'; 'r'
// is raw: the C++ standard library's types as their members.
std::string format_value(const Value& value, ExprContext& context, char format = 0, bool top = true);

// A flags register's set bits by their names, as gdb prints them: "[ PF ZF IF ]".
std::string flags_text(const Type& type, std::uint64_t raw);

// One value read from memory for `x`: `size` bytes shown in `format`.
std::string format_scalar(std::uint64_t raw, std::size_t size, char format, ExprContext& context);

}  // namespace ttdb
