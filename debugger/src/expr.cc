#include "ttdb/debugger/expr.h"

#include <fmt/format.h>

#include <bit>
#include <cctype>
#include <cstring>
#include <functional>

#include "std_printers.h"
#include "ttdb/base/parse.h"

namespace ttdb {
namespace {

using Kind = Type::Kind;

TypeRef named(const char* name) { return base_type_named(name); }

// --- values -----------------------------------------------------------------

Value from_uint(std::uint64_t v, TypeRef type) {
  Value out;
  out.bytes.resize(type->size);
  std::memcpy(out.bytes.data(), &v, std::min<std::size_t>(8, type->size));
  out.type = std::move(type);
  return out;
}

Value from_double(double d, TypeRef type) {
  Value out;
  out.type = type;
  out.bytes.resize(type->size);
  if (type->size == 4) {
    auto f = static_cast<float>(d);
    std::memcpy(out.bytes.data(), &f, 4);
  } else {
    std::memcpy(out.bytes.data(), &d, 8);
  }
  return out;
}

}  // namespace

Value load(const TypeRef& type, std::uint64_t addr, ExprContext& context) {
  if (type->kind == Kind::void_) throw ExprError("attempt to take contents of a non-pointer value");
  if (type->kind == Kind::function) {
    Value v;
    v.type = type;
    v.address = addr;
    return v;
  }
  auto bytes = context.read(addr, type->size);
  if (!bytes) throw ExprError(fmt::format("cannot access memory at address {:#x}", addr));
  return Value{type, std::move(*bytes), addr};
}

namespace {

// Arrays and functions used as values become pointers to their start.
Value decay(const Value& v) {
  if (v.type->kind == Kind::array) {
    if (!v.address) throw ExprError("an array that is not in memory has no address");
    return from_uint(*v.address, make_pointer(v.type->target));
  }
  if (v.type->kind == Kind::function && v.address) return from_uint(*v.address, make_pointer(v.type));
  return v;
}

void require_scalar(const Value& v, const char* op) {
  if (!v.type->is_scalar()) throw ExprError(fmt::format("the operands of '{}' must be numbers or pointers, not {}", op, v.type->display()));
}

// C's usual arithmetic conversions, simplified to what a debugger needs.
TypeRef common_type(const Value& a, const Value& b) {
  if (a.type->kind == Kind::floating || b.type->kind == Kind::floating) return named("double");
  bool is_unsigned = (a.type->size >= 8 && !a.type->is_signed) || (b.type->size >= 8 && !b.type->is_signed);
  bool is_long = a.type->size >= 8 || b.type->size >= 8;
  if (is_long) return named(is_unsigned ? "unsigned long" : "long");
  bool int_unsigned = (a.type->size == 4 && !a.type->is_signed && a.type->kind == Kind::integer) ||
                      (b.type->size == 4 && !b.type->is_signed && b.type->kind == Kind::integer);
  return named(int_unsigned ? "unsigned int" : "int");
}

Value arithmetic(const std::string& op, Value a, Value b) {
  a = decay(a);
  b = decay(b);
  require_scalar(a, op.c_str());
  require_scalar(b, op.c_str());
  bool pa = a.type->kind == Kind::pointer, pb = b.type->kind == Kind::pointer;
  if (op == "+" || op == "-") {
    if (pa && pb && op == "-") {
      std::uint64_t size = std::max<std::uint64_t>(a.type->target ? a.type->target->size : 1, 1);
      auto bytes = static_cast<std::int64_t>(a.as_uint() - b.as_uint());
      return from_uint(static_cast<std::uint64_t>(bytes / static_cast<std::int64_t>(size)), named("long"));
    }
    if (pa || pb) {
      if (pa && pb) throw ExprError("cannot add two pointers");
      const Value& ptr = pa ? a : b;
      const Value& n = pa ? b : a;
      if (n.type->kind == Kind::floating) throw ExprError("cannot add a floating-point number to a pointer");
      std::uint64_t size = ptr.type->target && ptr.type->target->kind != Kind::void_ ? ptr.type->target->size : 1;
      std::uint64_t delta = static_cast<std::uint64_t>(n.as_int()) * size;
      return from_uint(op == "+" ? ptr.as_uint() + delta : ptr.as_uint() - delta, ptr.type);
    }
  }
  TypeRef type = common_type(a, b);
  if (pa || pb) type = named("unsigned long");
  if (type->kind == Kind::floating) {
    double x = a.as_double(), y = b.as_double();
    if (op == "+") return from_double(x + y, type);
    if (op == "-") return from_double(x - y, type);
    if (op == "*") return from_double(x * y, type);
    if (op == "/") return from_double(x / y, type);
    throw ExprError(fmt::format("'{}' needs integer operands", op));
  }
  if (type->is_signed) {
    std::int64_t x = a.as_int(), y = b.as_int();
    if ((op == "/" || op == "%") && y == 0) throw ExprError("division by zero");
    // The smallest value divided by -1 wraps, as the program's own arithmetic
    // (and gdb) would have it, instead of trapping: -9223372036854775808.
    if (y == -1 && (op == "/" || op == "%")) return from_uint(op == "/" ? 0 - static_cast<std::uint64_t>(x) : 0, type);
    if (op == "/") return from_uint(static_cast<std::uint64_t>(x / y), type);
    if (op == "%") return from_uint(static_cast<std::uint64_t>(x % y), type);
    if (op == ">>") return from_uint(static_cast<std::uint64_t>(x >> (y & 63)), type);
  }
  // + - * wrap in two's complement, signed or not.
  std::uint64_t x = a.as_uint(), y = b.as_uint();
  if ((op == "/" || op == "%") && y == 0) throw ExprError("division by zero");
  if (op == "+") return from_uint(x + y, type);
  if (op == "-") return from_uint(x - y, type);
  if (op == "*") return from_uint(x * y, type);
  if (op == "/") return from_uint(x / y, type);
  if (op == "%") return from_uint(x % y, type);
  if (op == "<<") return from_uint(x << (y & 63), type);
  if (op == ">>") return from_uint(x >> (y & 63), type);
  if (op == "&") return from_uint(x & y, type);
  if (op == "|") return from_uint(x | y, type);
  if (op == "^") return from_uint(x ^ y, type);
  throw ExprError(fmt::format("unknown operator '{}'", op));
}

Value compare(const std::string& op, Value a, Value b) {
  a = decay(a);
  b = decay(b);
  require_scalar(a, op.c_str());
  require_scalar(b, op.c_str());
  int result = 0;
  TypeRef type = common_type(a, b);
  if (a.type->kind == Kind::pointer || b.type->kind == Kind::pointer) type = named("unsigned long");
  auto order = [&]() -> int {
    if (type->kind == Kind::floating) return a.as_double() < b.as_double() ? -1 : a.as_double() > b.as_double();
    if (type->is_signed) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int();
    return a.as_uint() < b.as_uint() ? -1 : a.as_uint() > b.as_uint();
  }();
  if (op == "==") result = order == 0;
  if (op == "!=") result = order != 0;
  if (op == "<") result = order < 0;
  if (op == ">") result = order > 0;
  if (op == "<=") result = order <= 0;
  if (op == ">=") result = order >= 0;
  return make_int(result, "int");
}

Value cast(const Value& from, const TypeRef& to) {
  Value v = decay(from);
  if (to->kind == Kind::void_) return Value{to, {}, std::nullopt};
  if (!to->is_scalar()) {
    if (v.type->size == to->size) return Value{to, v.bytes, v.address};
    throw ExprError(fmt::format("cannot cast {} to {}", v.type->display(), to->display()));
  }
  require_scalar(v, "cast");
  if (to->kind == Kind::floating) return from_double(v.type->kind == Kind::floating ? v.as_double() : v.type->is_signed ? static_cast<double>(v.as_int()) : static_cast<double>(v.as_uint()), to);
  if (v.type->kind == Kind::floating) {
    // Out of range (or NaN), x86's conversion gives the "integer indefinite" value; C leaves it undefined.
    double d = v.as_double();
    bool fits = d > -9223372036854775808.0 && d < 9223372036854775808.0;
    return from_uint(fits ? static_cast<std::uint64_t>(static_cast<std::int64_t>(d)) : 0x8000000000000000ull, to);
  }
  if (to->kind == Kind::boolean) return from_uint(v.as_uint() != 0, to);
  return from_uint(v.type->is_signed ? static_cast<std::uint64_t>(v.as_int()) : v.as_uint(), to);
}

}  // namespace

Value part_of(const Value& v, const Member& m) {
  auto from = std::min<std::uint64_t>(m.offset, v.bytes.size());
  auto to = std::min<std::uint64_t>(m.offset + m.type->size, v.bytes.size());
  return Value{m.type, Bytes(v.bytes.begin() + static_cast<std::ptrdiff_t>(from), v.bytes.begin() + static_cast<std::ptrdiff_t>(to)),
               v.address ? std::optional(*v.address + m.offset) : std::nullopt};
}

Value member_of(const Value& v, const std::string& name) {
  if (v.optimized_out) throw ExprError("value has been optimized out");
  if (v.type->kind != Kind::structure && v.type->kind != Kind::union_)
    throw ExprError(fmt::format("'{}' is not a struct or union, it is {}", name, v.type->display()));
  for (const auto& m : v.type->members) {
    if ((m.name.empty() || m.is_base) && (m.type->kind == Kind::structure || m.type->kind == Kind::union_)) {
      // An anonymous struct or union's members belong to the outer one, as
      // a C++ base class's do.
      try {
        return member_of(part_of(v, m), name);
      } catch (const ExprError&) {
        continue;
      }
    }
    if (m.name != name) continue;
    if (m.offset + m.type->size > v.bytes.size()) throw ExprError(fmt::format("member '{}' lies outside its struct", name));
    Value out = part_of(v, m);
    if (m.bit_size) {
      std::uint64_t raw = out.as_uint() >> m.bit_offset;
      raw &= m.bit_size >= 64 ? ~0ull : (1ull << m.bit_size) - 1;
      out = from_uint(raw, m.type);
      out.address.reset();
    }
    return out;
  }
  throw ExprError(fmt::format("there is no member named {} in {}", name, v.type->display()));
}

namespace {

// --- the parser -------------------------------------------------------------

class Parser {
 public:
  Parser(const std::string& text, ExprContext& context) : s_(text), context_(context) {}

  Value parse() {
    Value v = assignment();
    skip_space();
    if (i_ < s_.size()) throw ExprError(fmt::format("unexpected '{}' in the expression", rest()));
    return v;
  }

 private:
  // What is left to parse, shortened for a message.
  std::string rest() const { return s_.size() - i_ > 40 ? s_.substr(i_, 40) + "..." : s_.substr(i_); }
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool peek(std::string_view token) {
    skip_space();
    return s_.compare(i_, token.size(), token) == 0;
  }
  bool accept(std::string_view token) {
    if (!peek(token)) return false;
    i_ += token.size();
    return true;
  }
  void expect(std::string_view token) {
    if (!accept(token)) throw ExprError(fmt::format("expected '{}' in the expression{}", token, i_ < s_.size() ? " near '" + rest() + "'" : " at its end"));
  }
  std::string identifier() {
    skip_space();
    std::size_t start = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_')) ++i_;
    return s_.substr(start, i_ - start);
  }
  bool at_identifier() {
    skip_space();
    return i_ < s_.size() && (std::isalpha(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_');
  }

  // Binary operators by precedence, loosest first.
  static int precedence(const std::string& op) {
    static const std::vector<std::vector<std::string>> levels = {
        {"||"}, {"&&"}, {"|"}, {"^"}, {"&"}, {"==", "!="}, {"<=", ">=", "<", ">"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "%"}, {"@"}};
    for (std::size_t l = 0; l < levels.size(); ++l)
      for (const auto& o : levels[l])
        if (o == op) return static_cast<int>(l);
    return -1;
  }
  std::optional<std::string> peek_binary() {
    skip_space();
    static const char* ops[] = {"||", "&&", "==", "!=", "<=", ">=", "<<", ">>", "|", "^", "&", "<", ">", "+", "-", "*", "/", "%", "@"};
    for (const char* op : ops) {
      std::size_t n = std::strlen(op);
      if (s_.compare(i_, n, op) != 0) continue;
      // `+=` and the like are assignments, not this operator.
      bool compares = op[n - 1] == '=' || std::string_view(op) == "<" || std::string_view(op) == ">";
      if (!compares && i_ + n < s_.size() && s_[i_ + n] == '=') return std::nullopt;
      return std::string(op);
    }
    return std::nullopt;
  }

  // The past is read-only: an assignment is refused, not evaluated.
  Value assignment() {
    Value v = conditional();
    skip_space();
    static const char* assigning[] = {"<<=", ">>=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "="};
    for (const char* op : assigning)
      if (s_.compare(i_, std::strlen(op), op) == 0 && !peek("=="))
        throw ExprError(kPastIsReadOnly);
    return v;
  }

  // C's `cond ? a : b`, evaluating only the side it takes.
  Value conditional() {
    Value cond = binary(0);
    if (!accept("?")) return cond;
    bool was = skipping_;
    bool take = !was && decay(cond).truthy();
    skipping_ = was || !take;
    Value yes = assignment();
    expect(":");
    skipping_ = was || take;
    Value no = conditional();
    skipping_ = was;
    return take ? yes : no;
  }

  Value binary(int min_level) {
    Value left = unary();
    for (;;) {
      auto op = peek_binary();
      if (!op) return left;
      int level = precedence(*op);
      if (level < min_level) return left;
      i_ += op->size();
      if (*op == "&&" || *op == "||") {
        bool decided = *op == "&&" ? !(skipping_ || decay(left).truthy()) : (!skipping_ && decay(left).truthy());
        bool was = skipping_;
        skipping_ = skipping_ || decided;
        Value right = binary(level + 1);
        skipping_ = was;
        if (skipping_) continue;
        bool result = decided ? (*op == "||") : decay(right).truthy();
        left = make_int(result, "int");
        continue;
      }
      Value right = binary(level + 1);
      if (skipping_) continue;
      if (*op == "@") {
        left = repeat(left, right);
        continue;
      }
      if (*op == "==" || *op == "!=" || *op == "<" || *op == ">" || *op == "<=" || *op == ">=")
        left = compare(*op, left, right);
      else
        left = arithmetic(*op, left, right);
    }
  }

  // gdb's artificial arrays: `*p@3`, `values[1]@2` are COUNT objects from there.
  Value repeat(const Value& first, const Value& count) {
    if (!first.address) throw ExprError("only values in memory can be used on the left of '@'");
    if (!count.type->is_integral() || count.as_int() <= 0) throw ExprError("the right side of '@' must be a positive integer");
    auto n = static_cast<std::uint64_t>(count.as_int());
    if (first.type->size == 0) throw ExprError(fmt::format("cannot repeat a value of type {}: it has no size", first.type->display()));
    if (n > (1u << 20) / first.type->size) throw ExprError("'@' asks for more than 1 MiB");
    auto t = std::make_shared<Type>();
    t->kind = Kind::array;
    t->target = first.type;
    t->count = n;
    t->size = n * first.type->size;
    return load(t, *first.address, context_);
  }

  // "(type)" at the cursor: the type, with the cursor after the ')'.
  TypeRef try_cast_type() {
    std::size_t save = i_;
    if (!accept("(")) return nullptr;
    std::string name;
    for (;;) {
      if (!at_identifier()) break;
      std::size_t word_start = i_;
      std::string word = identifier();
      bool keyword = word == "unsigned" || word == "signed" || word == "int" || word == "long" || word == "short" ||
                     word == "char" || word == "const" || word == "volatile";
      bool tagged = word == "struct" || word == "union" || word == "enum";
      if (tagged) {
        name += (name.empty() ? "" : " ") + word + " " + identifier();
        continue;
      }
      if (keyword || name.empty()) {
        if (word == "const" || word == "volatile") continue;
        name += (name.empty() ? "" : " ") + word;
        if (!keyword) break;
        continue;
      }
      i_ = word_start;
      break;
    }
    if (name == "signed") name = "int";
    if (name.starts_with("signed ") && name != "signed char") name = name.substr(7);
    if (name == "long int" || name == "long long int") name = "long";
    if (name == "unsigned long int") name = "unsigned long";
    if (name == "short int") name = "short";
    TypeRef type = name.empty() ? nullptr : context_.type_named(name);
    if (!type) {
      i_ = save;
      return nullptr;
    }
    while (accept("*")) type = make_pointer(type);
    if (!accept(")")) {
      i_ = save;
      return nullptr;
    }
    return type;
  }

  Value unary() {
    // Each nested parenthesis or prefix operator recurses: bound it before the stack runs out.
    if (depth_ >= kMaxDepth) throw ExprError(fmt::format("expression nested too deeply: at most {} levels", kMaxDepth));
    ++depth_;
    struct Leave {
      int& depth;
      ~Leave() { --depth; }
    } leave{depth_};
    skip_space();
    if (accept("sizeof")) {
      std::size_t save = i_;
      if (TypeRef t = try_cast_type()) return make_int(static_cast<std::int64_t>(t->size), "unsigned long");
      i_ = save;
      Value v = unary();
      return make_int(static_cast<std::int64_t>(v.type ? v.type->size : 0), "unsigned long");
    }
    if (peek("(")) {
      if (TypeRef t = try_cast_type()) {
        Value v = unary();
        return skipping_ ? v : cast(v, t);
      }
    }
    if (accept("!")) {
      Value v = unary();
      return skipping_ ? v : make_int(!decay(v).truthy(), "int");
    }
    if (accept("~")) {
      Value v = unary();
      if (skipping_) return v;
      if (!v.type->is_integral()) throw ExprError("'~' needs an integer");
      TypeRef t = v.type->size >= 8 ? v.type : named("int");
      return from_uint(~cast(v, t).as_uint(), t);
    }
    if (peek("-") && !peek("->") && !peek("--")) {
      ++i_;
      Value v = unary();
      if (skipping_) return v;
      return arithmetic("-", make_int(0, "int"), v);
    }
    if (accept("+")) return unary();
    if (accept("*")) {
      Value v = unary();
      if (skipping_) return v;
      if (auto held = std_pointer(v)) v = *held;
      v = decay(v);
      if (v.type->kind != Kind::pointer) throw ExprError(fmt::format("attempt to take contents of a non-pointer value ({})", v.type->display()));
      return load(v.type->target ? v.type->target : void_type(), v.as_uint(), context_);
    }
    if (accept("&")) {
      Value v = unary();
      if (skipping_) return v;
      if (!v.address) throw ExprError("attempt to take the address of a value that is not in memory");
      return from_uint(*v.address, make_pointer(v.type));
    }
    return postfix(primary());
  }

  Value postfix(Value v) {
    for (;;) {
      if (accept("[")) {
        Value index = binary(0);
        expect("]");
        if (skipping_) continue;
        Value base = decay(std_pointer(v).value_or(v));
        if (base.type->kind != Kind::pointer) throw ExprError(fmt::format("cannot subscript {}: it is not an array or a pointer", v.type->display()));
        Value at = arithmetic("+", base, index);
        v = load(base.type->target ? base.type->target : void_type(), at.as_uint(), context_);
      } else if (accept("->")) {
        std::string name = identifier();
        if (name.empty()) throw ExprError("expected a member name after '->'");
        if (skipping_) continue;
        Value p = decay(std_pointer(v).value_or(v));
        if (p.type->kind != Kind::pointer || !p.type->target)
          throw ExprError(fmt::format("the left side of '->' must be a pointer to a struct, not {}", v.type->display()));
        v = member_of(load(p.type->target, p.as_uint(), context_), name);
      } else if (peek(".") && !(i_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_ + 1])))) {
        ++i_;
        std::string name = identifier();
        if (name.empty()) throw ExprError("expected a member name after '.'");
        if (skipping_) continue;
        v = member_of(v, name);
      } else {
        return v;
      }
    }
  }

  Value primary() {
    skip_space();
    if (i_ >= s_.size()) throw ExprError("the expression ends too early");
    char c = s_[i_];
    if (accept("(")) {
      Value v = binary(0);
      expect(")");
      return v;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) return number();
    if (c == '\'') return character();
    if (c == '"') return string();
    if (c == '$') {
      ++i_;
      std::size_t start = i_;
      while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' || s_[i_] == '$')) ++i_;
      std::string name = s_.substr(start, i_ - start);
      if (skipping_) return make_int(0);
      auto v = context_.dollar(name);
      // As gdb: a convenience variable never set is void.
      if (!v) return Value{void_type(), {}, std::nullopt};
      return *v;
    }
    if (at_identifier()) {
      std::string name = identifier();
      if (skipping_) return make_int(0);
      if (name == "true" || name == "false") return make_int(name == "true", "int");
      auto v = context_.variable(name);
      if (!v) throw ExprError(fmt::format("no symbol \"{}\" in current context", name));
      return *v;
    }
    throw ExprError(fmt::format("unexpected '{}' in the expression", rest()));
  }

  Value number() {
    std::size_t start = i_;
    bool is_float = false;
    std::size_t used = 0;
    if (s_.compare(i_, 2, "0x") == 0 || s_.compare(i_, 2, "0X") == 0) {
      i_ += 2;
      while (i_ < s_.size() && std::isxdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    } else {
      while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' || s_[i_] == 'e')) {
        is_float = is_float || s_[i_] == '.' || s_[i_] == 'e';
        ++i_;
      }
    }
    std::string digits = s_.substr(start, i_ - start);
    bool is_unsigned = false, is_long = false;
    while (i_ < s_.size() && std::strchr("uUlL", s_[i_])) {
      is_unsigned = is_unsigned || std::toupper(s_[i_]) == 'U';
      is_long = is_long || std::toupper(s_[i_]) == 'L';
      ++i_;
    }
    if (is_float) {
      try {
        return from_double(std::stod(digits, &used), named("double"));
      } catch (const std::exception&) {
        throw ExprError(fmt::format("invalid number \"{}\"", digits));
      }
    }
    auto parsed = parse_uint(digits, 0);
    bool hex = digits.size() > 2 && (digits[1] == 'x' || digits[1] == 'X') && digits.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string::npos;
    bool decimal = digits[0] != '0' && digits.find_first_not_of("0123456789") == std::string::npos;
    if (!parsed && (hex || decimal))
      throw ExprError(fmt::format("numeric constant too large: {} does not fit in 64 bits", digits));
    if (!parsed) throw ExprError(fmt::format("invalid number \"{}\"", digits));
    std::uint64_t v = *parsed;
    if (!is_long && v <= (is_unsigned ? 0xffffffffull : 0x7fffffffull)) return from_uint(v, named(is_unsigned ? "unsigned int" : "int"));
    return from_uint(v, named(is_unsigned || v > 0x7fffffffffffffffull ? "unsigned long" : "long"));
  }

  char escaped() {
    if (i_ >= s_.size()) throw ExprError("unterminated character or string");
    char c = s_[i_++];
    if (c != '\\') return c;
    if (i_ >= s_.size()) throw ExprError("unterminated escape sequence");
    char e = s_[i_++];
    switch (e) {
      case 'n': return '\n';
      case 't': return '\t';
      case 'r': return '\r';
      case '0': return '\0';
      case 'a': return '\a';
      case 'b': return '\b';
      case 'f': return '\f';
      case 'v': return '\v';
      case 'e': return '\033';
      default: return e;
    }
  }

  Value character() {
    ++i_;
    char c = escaped();
    if (i_ >= s_.size() || s_[i_] != '\'') throw ExprError("unterminated character constant");
    ++i_;
    return from_uint(static_cast<unsigned char>(c), named("char"));
  }

  Value string() {
    ++i_;
    Bytes bytes;
    while (i_ < s_.size() && s_[i_] != '"') bytes.push_back(static_cast<std::uint8_t>(escaped()));
    if (i_ >= s_.size()) throw ExprError("unterminated string");
    ++i_;
    bytes.push_back(0);
    return char_array(std::move(bytes));
  }

  std::string s_;
  std::size_t i_ = 0;
  ExprContext& context_;
  bool skipping_ = false;  // the unevaluated side of && or ||
  static constexpr int kMaxDepth = 256;
  int depth_ = 0;
};

}  // namespace

std::int64_t Value::as_int() const {
  std::uint64_t raw = as_uint();
  std::size_t size = std::min<std::size_t>(8, bytes.size());
  if (type && type->is_signed && size > 0 && size < 8) {
    unsigned shift = static_cast<unsigned>(64 - size * 8);
    return static_cast<std::int64_t>(raw << shift) >> shift;
  }
  return static_cast<std::int64_t>(raw);
}

std::uint64_t Value::as_uint() const {
  if (optimized_out) throw ExprError("value has been optimized out");
  std::uint64_t raw = 0;
  std::memcpy(&raw, bytes.data(), std::min<std::size_t>(8, bytes.size()));
  return raw;
}

double Value::as_double() const {
  if (optimized_out) throw ExprError("value has been optimized out");
  if (type->kind != Kind::floating) return type->is_signed ? static_cast<double>(as_int()) : static_cast<double>(as_uint());
  if (bytes.size() == 4) {
    float f = 0;
    std::memcpy(&f, bytes.data(), 4);
    return f;
  }
  double d = 0;
  std::memcpy(&d, bytes.data(), std::min<std::size_t>(8, bytes.size()));
  return d;
}

bool Value::truthy() const {
  if (!type->is_scalar()) throw ExprError(fmt::format("{} cannot be used as a condition", type->display()));
  return type->kind == Kind::floating ? as_double() != 0 : as_uint() != 0;
}

Value char_array(Bytes bytes) {
  auto t = std::make_shared<Type>();
  t->kind = Kind::array;
  t->target = named("char");
  t->count = t->size = bytes.size();
  return Value{t, std::move(bytes), std::nullopt};
}

CString read_c_string(std::uint64_t addr, std::size_t limit, ExprContext& context) {
  CString s;
  while (s.text.size() < limit) {
    auto byte = context.read(addr + s.text.size(), 1);
    if (!byte) {
      s.fault = addr + s.text.size();
      break;
    }
    if ((*byte)[0] == 0) {
      s.ended = true;
      break;
    }
    s.text.push_back((*byte)[0]);
  }
  return s;
}

Value make_int(std::int64_t v, const char* type_name) { return from_uint(static_cast<std::uint64_t>(v), named(type_name)); }

Value evaluate(const std::string& text, ExprContext& context) {
  if (text.find_first_not_of(" \t") == std::string::npos) throw ExprError("an expression is needed");
  return Parser(text, context).parse();
}

std::uint64_t decay_address(const Value& value) {
  Value v = decay(value);
  if (!v.type->is_scalar() || v.type->kind == Kind::floating)
    throw ExprError(fmt::format("{} is not an address", value.type->display()));
  return v.as_uint();
}

bool decay_truth(const Value& value) { return decay(value).truthy(); }

}  // namespace ttdb
