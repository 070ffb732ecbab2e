#include "gdb_target.h"

#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <cstring>

namespace ttdb::gdb {
namespace {

struct Reg {
  const char* name;
  std::size_t bits;
  const char* type;
  const char* group;  // "" for the default
  std::optional<std::size_t> offset;  // in user_regs_struct; none: not available
};

#define USER(field) std::optional<std::size_t>(offsetof(Registers, field))
constexpr std::optional<std::size_t> kNone;

const std::array<Reg, 60>& table() {
  static const std::array<Reg, 60> regs = {{
      {"rax", 64, "int64", "", USER(rax)},        {"rbx", 64, "int64", "", USER(rbx)},
      {"rcx", 64, "int64", "", USER(rcx)},        {"rdx", 64, "int64", "", USER(rdx)},
      {"rsi", 64, "int64", "", USER(rsi)},        {"rdi", 64, "int64", "", USER(rdi)},
      {"rbp", 64, "data_ptr", "", USER(rbp)},     {"rsp", 64, "data_ptr", "", USER(rsp)},
      {"r8", 64, "int64", "", USER(r8)},          {"r9", 64, "int64", "", USER(r9)},
      {"r10", 64, "int64", "", USER(r10)},        {"r11", 64, "int64", "", USER(r11)},
      {"r12", 64, "int64", "", USER(r12)},        {"r13", 64, "int64", "", USER(r13)},
      {"r14", 64, "int64", "", USER(r14)},        {"r15", 64, "int64", "", USER(r15)},
      {"rip", 64, "code_ptr", "", USER(rip)},     {"eflags", 32, "i386_eflags", "", USER(eflags)},
      {"cs", 32, "int32", "", USER(cs)},          {"ss", 32, "int32", "", USER(ss)},
      {"ds", 32, "int32", "", USER(ds)},          {"es", 32, "int32", "", USER(es)},
      {"fs", 32, "int32", "", USER(fs)},          {"gs", 32, "int32", "", USER(gs)},
      {"st0", 80, "i387_ext", "", kNone},         {"st1", 80, "i387_ext", "", kNone},
      {"st2", 80, "i387_ext", "", kNone},         {"st3", 80, "i387_ext", "", kNone},
      {"st4", 80, "i387_ext", "", kNone},         {"st5", 80, "i387_ext", "", kNone},
      {"st6", 80, "i387_ext", "", kNone},         {"st7", 80, "i387_ext", "", kNone},
      {"fctrl", 32, "int", "float", kNone},       {"fstat", 32, "int", "float", kNone},
      {"ftag", 32, "int", "float", kNone},        {"fiseg", 32, "int", "float", kNone},
      {"fioff", 32, "int", "float", kNone},       {"foseg", 32, "int", "float", kNone},
      {"fooff", 32, "int", "float", kNone},       {"fop", 32, "int", "float", kNone},
      {"xmm0", 128, "vec128", "", kNone},         {"xmm1", 128, "vec128", "", kNone},
      {"xmm2", 128, "vec128", "", kNone},         {"xmm3", 128, "vec128", "", kNone},
      {"xmm4", 128, "vec128", "", kNone},         {"xmm5", 128, "vec128", "", kNone},
      {"xmm6", 128, "vec128", "", kNone},         {"xmm7", 128, "vec128", "", kNone},
      {"xmm8", 128, "vec128", "", kNone},         {"xmm9", 128, "vec128", "", kNone},
      {"xmm10", 128, "vec128", "", kNone},        {"xmm11", 128, "vec128", "", kNone},
      {"xmm12", 128, "vec128", "", kNone},        {"xmm13", 128, "vec128", "", kNone},
      {"xmm14", 128, "vec128", "", kNone},        {"xmm15", 128, "vec128", "", kNone},
      {"mxcsr", 32, "i386_mxcsr", "vector", kNone}, {"orig_rax", 64, "int", "", USER(orig_rax)},
      {"fs_base", 64, "int", "", USER(fs_base)},  {"gs_base", 64, "int", "", USER(gs_base)},
  }};
  return regs;
}
#undef USER

// Register numbers where each feature begins, as gdb's features split them.
constexpr std::size_t kSse = 40, kLinux = 57, kSegments = 58;

std::string build_xml() {
  std::string xml =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n"
      "<architecture>i386:x86-64</architecture>\n<osabi>GNU/Linux</osabi>\n"
      "<feature name=\"org.gnu.gdb.i386.core\">\n"
      "<flags id=\"i386_eflags\" size=\"4\">\n"
      "<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>"
      "<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>"
      "<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>"
      "<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>"
      "<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>"
      "<field name=\"NT\" start=\"14\" end=\"14\"/><field name=\"RF\" start=\"16\" end=\"16\"/>"
      "<field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>"
      "<field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/>"
      "<field name=\"ID\" start=\"21\" end=\"21\"/>\n</flags>\n";
  const auto& regs = table();
  for (std::size_t i = 0; i < regs.size(); ++i) {
    if (i == kSse)
      xml +=
          "</feature>\n<feature name=\"org.gnu.gdb.i386.sse\">\n"
          "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/><vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
          "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/><vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
          "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/><vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
          "<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/><field name=\"v2_double\" type=\"v2d\"/>"
          "<field name=\"v16_int8\" type=\"v16i8\"/><field name=\"v8_int16\" type=\"v8i16\"/>"
          "<field name=\"v4_int32\" type=\"v4i32\"/><field name=\"v2_int64\" type=\"v2i64\"/>"
          "<field name=\"uint128\" type=\"uint128\"/></union>\n"
          "<flags id=\"i386_mxcsr\" size=\"4\"><field name=\"IE\" start=\"0\" end=\"0\"/>"
          "<field name=\"DE\" start=\"1\" end=\"1\"/><field name=\"ZE\" start=\"2\" end=\"2\"/>"
          "<field name=\"OE\" start=\"3\" end=\"3\"/><field name=\"UE\" start=\"4\" end=\"4\"/>"
          "<field name=\"PE\" start=\"5\" end=\"5\"/><field name=\"DAZ\" start=\"6\" end=\"6\"/>"
          "<field name=\"IM\" start=\"7\" end=\"7\"/><field name=\"DM\" start=\"8\" end=\"8\"/>"
          "<field name=\"ZM\" start=\"9\" end=\"9\"/><field name=\"OM\" start=\"10\" end=\"10\"/>"
          "<field name=\"UM\" start=\"11\" end=\"11\"/><field name=\"PM\" start=\"12\" end=\"12\"/>"
          "<field name=\"FZ\" start=\"15\" end=\"15\"/></flags>\n";
    if (i == kLinux) xml += "</feature>\n<feature name=\"org.gnu.gdb.i386.linux\">\n";
    if (i == kSegments) xml += "</feature>\n<feature name=\"org.gnu.gdb.i386.segments\">\n";
    xml += fmt::format("<reg name=\"{}\" bitsize=\"{}\" type=\"{}\" regnum=\"{}\"{}/>\n", regs[i].name, regs[i].bits,
                       regs[i].type, i, *regs[i].group ? fmt::format(" group=\"{}\"", regs[i].group) : "");
  }
  xml += "</feature>\n</target>\n";
  return xml;
}

}  // namespace

const std::string& target_xml() {
  static const std::string xml = build_xml();
  return xml;
}

std::size_t target_register_count() { return table().size(); }

std::size_t register_size(std::size_t number) { return number < table().size() ? table()[number].bits / 8 : 0; }

std::optional<std::uint64_t> register_value(const Registers& regs, std::size_t number) {
  if (number >= table().size() || !table()[number].offset) return std::nullopt;
  std::uint64_t value;
  std::memcpy(&value, reinterpret_cast<const char*>(&regs) + *table()[number].offset, sizeof value);
  return value;
}

}  // namespace ttdb::gdb
