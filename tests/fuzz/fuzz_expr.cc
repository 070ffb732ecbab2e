// Fuzzes the expression language: parsing, evaluating and printing a C
// expression against a made-up program (a few typed variables, registers
// and 4 KiB of memory), as `print`, `x` and breakpoint conditions do. Any
// input must end in a value or an ExprError: never a crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "ttdb/debugger/expr.h"

namespace {

using ttdb::Bytes;
using ttdb::ExprContext;
using ttdb::Type;
using ttdb::TypeRef;
using ttdb::Value;

constexpr std::uint64_t kBase = 0x10000;  // where the made-up memory starts
constexpr std::size_t kSize = 4096;

TypeRef base(const char* name) { return ttdb::base_type_named(name); }

std::shared_ptr<Type> make(Type::Kind kind, std::string name, std::uint64_t size) {
  auto t = std::make_shared<Type>();
  t->kind = kind;
  t->name = std::move(name);
  t->size = size;
  return t;
}

TypeRef array_of(TypeRef element, std::uint64_t count) {
  auto t = make(Type::Kind::array, "", element->size * count);
  t->target = std::move(element);
  t->count = count;
  return t;
}

// The program: what its memory holds, and the types of its variables.
class FakeProgram : public ExprContext {
 public:
  FakeProgram() {
    for (std::size_t i = 0; i < kSize; ++i) memory_[i] = static_cast<std::uint8_t>(i * 37 + 11);
    // struct node { int value; unsigned flags : 3; int wide : 20; struct node *next; union { short s; char c; }; };
    auto node = make(Type::Kind::structure, "node", 24);
    auto anon = make(Type::Kind::union_, "", 2);
    anon->members = {{"s", 0, base("short")}, {"c", 0, base("char")}};
    node->members = {{"value", 0, base("int")},
                     {"flags", 4, base("unsigned int"), 3, 0},
                     {"wide", 4, base("int"), 20, 3},
                     {"next", 8, nullptr},
                     {"", 16, anon}};
    node_ = node;
    node->members[3].type = ttdb::make_pointer(node_);
    auto color = make(Type::Kind::enumeration, "color", 4);
    color->is_signed = true;
    color->enumerators = {{"RED", 0}, {"GREEN", 1}, {"BLUE", 7}};
    auto function = make(Type::Kind::function, "", 1);
    function->target = base("int");
    function->params = {base("int")};
    auto empty = make(Type::Kind::structure, "empty", 0);

    // At kBase: a node that points to itself; then an int array, a string,
    // a pointer to the node and a double.
    store(0, 42, 4);
    store(8, kBase, 8);
    store(0x20, 0, 4 * 8);
    const char text[] = "hello, \"world\"\n\x01\xff";
    std::memcpy(memory_ + 0x60, text, sizeof text);
    store(0x80, kBase, 8);
    double d = 2.5;
    std::memcpy(memory_ + 0x88, &d, 8);

    at("n", node_, 0);
    at("values", array_of(base("int"), 8), 0x20);
    at("grid", array_of(array_of(base("char"), 4), 3), 0x40);
    at("text", ttdb::make_pointer(base("char")), 0x90);
    store(0x90, kBase + 0x60, 8);
    at("head", ttdb::make_pointer(node_), 0x80);
    at("d", base("double"), 0x88);
    at("f", base("float"), 0x88);
    at("i", base("int"), 0x20);
    at("u", base("unsigned long"), 0x24);
    at("c", base("char"), 0x61);
    at("b", base("_Bool"), 0x98);
    at("color", color, 0x28);
    at("square", function, 0x400);
    at("e", empty, 0x100);
    at("vp", ttdb::make_pointer(ttdb::void_type()), 0x80);
    at("bad", ttdb::make_pointer(base("long")), 0xa0);
    store(0xa0, 0xdead0000, 8);
    types_["struct node"] = node_;
    types_["node_t"] = node_;
    types_["enum color"] = color;
    types_["struct empty"] = empty;
  }

  std::optional<Bytes> read(std::uint64_t addr, std::size_t size) override {
    if (addr < kBase || addr - kBase > kSize || size > kSize - (addr - kBase)) return std::nullopt;
    const std::uint8_t* from = memory_ + (addr - kBase);
    return Bytes(from, from + size);
  }

  std::optional<Value> variable(const std::string& name) override {
    auto it = variables_.find(name);
    if (it == variables_.end()) return std::nullopt;
    auto bytes = read(kBase + it->second.second, it->second.first->size);
    if (it->second.first->kind == Type::Kind::function) bytes = Bytes{};
    return Value{it->second.first, *bytes, kBase + it->second.second};
  }

  std::optional<Value> dollar(const std::string& name) override {
    if (name == "pc" || name == "rip") return Value{ttdb::make_pointer(base("char")), bytes_of(kBase + 0x400), std::nullopt};
    if (name == "sp" || name == "rsp") return Value{ttdb::make_pointer(base("long")), bytes_of(kBase + 0x800), std::nullopt};
    if (name == "rax" || name == "event") return ttdb::make_int(-7);
    if (name == "eax") return ttdb::make_int(-7, "int");
    if (name == "1" || name.empty()) return variable("n");
    if (name == "2" || name == "_") return ttdb::char_array(Bytes{'h', 'i', 0});
    return std::nullopt;
  }

  TypeRef type_named(const std::string& name) override {
    if (auto it = types_.find(name); it != types_.end()) return it->second;
    return base(name.c_str());
  }

  std::optional<std::string> symbolize(std::uint64_t addr) override {
    if (addr >= kBase && addr < kBase + kSize) return "data+" + std::to_string(addr - kBase);
    return std::nullopt;
  }

 private:
  void store(std::size_t offset, std::uint64_t value, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) memory_[offset + i] = i < 8 ? static_cast<std::uint8_t>(value >> (8 * i)) : 0;
  }
  static Bytes bytes_of(std::uint64_t value) {
    Bytes out(8);
    std::memcpy(out.data(), &value, 8);
    return out;
  }
  void at(const std::string& name, TypeRef type, std::uint64_t offset) { variables_[name] = {std::move(type), offset}; }

  std::uint8_t memory_[kSize];
  TypeRef node_;
  std::map<std::string, std::pair<TypeRef, std::uint64_t>> variables_;
  std::map<std::string, TypeRef> types_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static FakeProgram program;
  // The last byte picks print's format (as print/FMT), the rest is the expression.
  static const char formats[] = {0, 'x', 'd', 'u', 'o', 't', 'c', 'a', 'f', 'z', 's'};
  char format = size ? formats[data[size - 1] % sizeof formats] : 0;
  std::string text(reinterpret_cast<const char*>(data), size ? size - 1 : 0);
  std::optional<Value> v;
  try {
    v = ttdb::evaluate(text, program);
  } catch (const ttdb::Error&) {
    return 0;  // an ExprError, or a made-up variable the expression cannot read
  }
  // What the shell does with a value: print it, test it, use it as an address.
  auto quietly = [](auto&& use) {
    try {
      use();
    } catch (const ttdb::Error&) {
    }
  };
  quietly([&] { (void)ttdb::format_value(*v, program, format); });
  quietly([&] { (void)ttdb::decay_truth(*v); });
  quietly([&] { (void)ttdb::decay_address(*v); });
  if (v->type->is_scalar() && v->type->size >= 1 && v->type->size <= 8)
    quietly([&] { (void)ttdb::format_scalar(v->as_uint(), v->type->size, format ? format : 'x', program); });
  return 0;
}
