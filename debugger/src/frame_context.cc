#include "ttdb/debugger/frame_context.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>

namespace ttdb {

namespace {

const RegisterName kRegisters[] = {
    {"rax", 0, &Registers::rax}, {"rbx", 3, &Registers::rbx}, {"rcx", 2, &Registers::rcx},
    {"rdx", 1, &Registers::rdx}, {"rsi", 4, &Registers::rsi}, {"rdi", 5, &Registers::rdi},
    {"rbp", 6, &Registers::rbp}, {"rsp", 7, &Registers::rsp}, {"r8", 8, &Registers::r8},
    {"r9", 9, &Registers::r9},   {"r10", 10, &Registers::r10}, {"r11", 11, &Registers::r11},
    {"r12", 12, &Registers::r12}, {"r13", 13, &Registers::r13}, {"r14", 14, &Registers::r14},
    {"r15", 15, &Registers::r15}, {"rip", 16, &Registers::rip}, {"eflags", -1, &Registers::eflags},
    {"cs", -1, &Registers::cs},   {"ss", -1, &Registers::ss},   {"ds", -1, &Registers::ds},
    {"es", -1, &Registers::es},   {"fs", -1, &Registers::fs},   {"gs", -1, &Registers::gs},
    {"fs_base", -1, &Registers::fs_base}, {"gs_base", -1, &Registers::gs_base},
    {"orig_rax", -1, &Registers::orig_rax},
};

}  // namespace

std::span<const RegisterName> register_names() { return kRegisters; }

TypeRef eflags_type() {
  static const TypeRef t = [] {
    auto type = std::make_shared<Type>();
    type->kind = Type::Kind::integer;
    type->name = "i386_eflags";
    type->size = 4;
    type->flag_bits = {{"CF", 0},  {"PF", 2},  {"AF", 4},  {"ZF", 6},  {"SF", 7},   {"TF", 8},   {"IF", 9}, {"DF", 10},
                       {"OF", 11}, {"NT", 14}, {"RF", 16}, {"VM", 17}, {"AC", 18}, {"VIF", 19}, {"VIP", 20}, {"ID", 21}};
    return TypeRef(type);
  }();
  return t;
}

TypeRef code_pointer_type() {
  static const TypeRef t = [] {
    auto f = std::make_shared<Type>();
    f->kind = Type::Kind::function;
    f->unprototyped = true;  // as gdb writes $pc's type: "void (*)()"
    f->size = 1;
    return make_pointer(f);
  }();
  return t;
}



std::optional<Bytes> FrameContext::read(std::uint64_t addr, std::size_t size) { return engine_.read_memory(addr, size); }

namespace {

Value optimized_out(const TypeRef& type) {
  Value out{type, Bytes(type->size), std::nullopt};
  out.optimized_out = true;
  return out;
}

}  // namespace

std::optional<Value> FrameContext::member_of_this(const std::string& name) {
  // In a C++ method, a member's name alone means this->name.
  if (name == "this") return std::nullopt;
  auto self = variable("this");
  if (!self || self->optimized_out || self->type->kind != Type::Kind::pointer || !self->as_uint()) return std::nullopt;
  try {
    return member_of(load(self->type->target, self->as_uint(), *this), name);
  } catch (const ExprError&) {
    return std::nullopt;  // no such member: the name is something else's
  }
}

std::optional<Value> FrameContext::variable(const std::string& name) {
  if (!live()) return std::nullopt;
  const Frame& frame = this->frame();
  auto v = images_.current().find_variable(name, &frame, caller_of(frame));
  if (!v) {
    if (auto member = member_of_this(name)) return member;
    return function_value(name);
  }
  return value_of(*v);
}

std::optional<Value> FrameContext::value_of(const Variable& v) {
  if (!live()) return std::nullopt;
  const Frame& frame = this->frame();
  switch (v.where) {
    case Variable::Where::memory: {
      auto bytes = read(v.addr, v.type->size);
      if (!bytes) throw ExprError(fmt::format("cannot access memory at address {:#x} (variable {})", v.addr, v.name));
      return Value{v.type, std::move(*bytes), v.addr};
    }
    case Variable::Where::register_: {
      auto r = static_cast<std::size_t>(v.regno);
      // A register the call did not save: the compiler kept no copy (gdb says so too).
      if (r >= frame.regs.size() || !frame.known[r]) return optimized_out(v.type);
      Bytes bytes(v.type->size);
      std::memcpy(bytes.data(), &frame.regs[r], std::min<std::size_t>(8, bytes.size()));
      return Value{v.type, bytes, std::nullopt};
    }
    case Variable::Where::value: {
      Bytes bytes = v.value;
      bytes.resize(v.type->size);
      return Value{v.type, bytes, std::nullopt};
    }
    case Variable::Where::optimized_out: return optimized_out(v.type);
    case Variable::Where::implicit_pointer: {
      Value synthetic = optimized_out(v.type);
      synthetic.synthetic_pointer = true;
      return synthetic;
    }
  }
  return std::nullopt;
}

std::optional<Value> FrameContext::dollar(const std::string& name) {
  if (name == "event") return make_int(engine_.event(), "long");
  if (name == "_exitcode") {
    // Void (unset) until the program exits normally, as in gdb.
    auto status = engine_.exit_status();
    if (!status || status->kind() == WaitStatus::Kind::killed) return std::nullopt;
    return make_int(status->code(), "int");
  }
  if (!live()) {
    bool register_name = name == "pc" || name == "sp" || name == "fp" ||
                         std::any_of(register_names().begin(), register_names().end(), [&](const RegisterName& r) { return name == r.name; });
    if (register_name) throw ExprError(fmt::format("no registers: the replay is at the end of the recording, where ${} is gone", name));
    return std::nullopt;
  }
  const Frame& frame = this->frame();
  Registers regs = engine_.registers();
  auto reg_value = [&](const RegisterName& r) -> std::uint64_t {
    if (frame.machine_level == 0) return regs.*r.field;
    if (r.dwarf < 0 || !frame.known[static_cast<std::size_t>(r.dwarf)])
      throw ExprError(fmt::format("${} is not saved in frame {}", r.name, frame.level));
    return frame.regs[static_cast<std::size_t>(r.dwarf)];
  };
  auto find = [&](const char* n) -> const RegisterName& {
    for (const auto& r : register_names())
      if (std::strcmp(r.name, n) == 0) return r;
    throw ExprError("no such register");
  };
  if (name == "pc" || name == "rip") {
    Value v = make_int(static_cast<std::int64_t>(frame.pc), "unsigned long");
    v.type = code_pointer_type();
    return v;
  }
  if (name == "sp" || name == "fp" || name == "rsp" || name == "rbp") {
    bool stack = name == "sp" || name == "rsp";
    Value v = make_int(static_cast<std::int64_t>(reg_value(find(stack ? "rsp" : "rbp"))), "unsigned long");
    v.type = make_pointer(void_type());
    return v;
  }
  if (name == "eflags") {
    Value v = make_int(static_cast<std::int64_t>(reg_value(find("eflags"))), "int");
    v.type = eflags_type();
    return v;
  }
  for (const auto& r : register_names()) {
    if (name != r.name) continue;
    // eflags and the segment selectors are 32 bits wide, as gdb shows them.
    bool narrow = r.dwarf < 0 && !name.ends_with("_base") && name != "orig_rax";
    return make_int(static_cast<std::int64_t>(reg_value(r)), narrow ? "int" : "long");
  }
  // The 32-bit halves: $eax, $r8d...
  for (const auto& r : register_names()) {
    std::string full = r.name;
    bool low = (full.size() == 3 && full[0] == 'r' && name == "e" + full.substr(1)) || name == full + "d";
    if (low && r.dwarf >= 0) return make_int(static_cast<std::int32_t>(reg_value(r)), "int");
  }
  return std::nullopt;
}

std::optional<Value> FrameContext::function_value(const std::string& name) {
  auto functions = images_.current().functions_named(name);
  if (functions.empty()) return std::nullopt;
  TypeRef type = images_.current().function_type(functions.front().low);
  if (!type) {
    auto bare = std::make_shared<Type>();
    bare->kind = Type::Kind::function;
    bare->size = 1;
    bare->target = images_.current().return_type(functions.front().low);
    type = bare;
  }
  Value v;
  v.type = type;
  v.address = functions.front().low;
  return v;
}

TypeRef FrameContext::type_named(const std::string& name) { return images_.current().find_type(name); }

std::optional<std::string> FrameContext::symbolize(std::uint64_t addr) {
  auto sym = images_.current().symbol_at(addr);
  if (!sym) return std::nullopt;
  return sym->offset ? fmt::format("{}+{}", sym->name, sym->offset) : sym->name;
}

}  // namespace ttdb
