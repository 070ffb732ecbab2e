#include "target.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <vector>
#include <cstddef>
#include <cstring>

namespace ttdb::gdb {
namespace {

// Where a register's value is: in the general registers (user_regs_struct),
// in the XSAVE area (the x87, SSE and AVX state), or the x87 tag word, which
// the FXSAVE layout abridges to a bit a register.
enum class Source { user, xsave, x87_tag };

struct Reg {
  const char* name;
  std::size_t bits;
  const char* type;
  const char* group;  // "" for the default
  Source source;
  std::size_t offset;  // in user_regs_struct or the XSAVE area
  std::size_t bytes;   // what the XSAVE area holds (fewer than the register's: zero-extended)
};

#define USER(field) Source::user, offsetof(Registers, field), 8
#define XSAVE(offset, bytes) Source::xsave, offset, bytes

// The XSAVE area (Intel SDM vol. 1, 13.4): the legacy FXSAVE region, its
// header, then the AVX upper halves.
constexpr std::size_t kSt0 = 32, kXmm0 = 160, kXstateBv = 512, kYmmHigh0 = 576;
constexpr std::uint64_t kAvxBit = 1u << 2;

#define ST(i) {"st" #i, 80, "i387_ext", "", XSAVE(kSt0 + 16 * (i), 10)}
#define XMM(i) {"xmm" #i, 128, "vec128", "", XSAVE(kXmm0 + 16 * (i), 16)}
#define YMMH(i) {"ymm" #i "h", 128, "uint128", "", XSAVE(kYmmHigh0 + 16 * (i), 16)}

const std::vector<Reg>& table() {
  static const std::vector<Reg> regs = [] {
    std::vector<Reg> out = {
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
        ST(0), ST(1), ST(2), ST(3), ST(4), ST(5), ST(6), ST(7),
        // As gdb reads them from FXSAVE on amd64: 16-bit fields zero-extended,
        // the segments the upper halves of the 64-bit pointers.
        {"fctrl", 32, "int", "float", XSAVE(0, 2)},  {"fstat", 32, "int", "float", XSAVE(2, 2)},
        {"ftag", 32, "int", "float", Source::x87_tag, 4, 1},
        {"fiseg", 32, "int", "float", XSAVE(12, 4)}, {"fioff", 32, "int", "float", XSAVE(8, 4)},
        {"foseg", 32, "int", "float", XSAVE(20, 4)}, {"fooff", 32, "int", "float", XSAVE(16, 4)},
        {"fop", 32, "int", "float", XSAVE(6, 2)},
        XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7),
        XMM(8), XMM(9), XMM(10), XMM(11), XMM(12), XMM(13), XMM(14), XMM(15),
        {"mxcsr", 32, "i386_mxcsr", "vector", XSAVE(24, 4)}, {"orig_rax", 64, "int", "", USER(orig_rax)},
        {"fs_base", 64, "int", "", USER(fs_base)},  {"gs_base", 64, "int", "", USER(gs_base)},
    };
    // gdb shows $ymm0..15 (from these and the xmm registers) where the machine has AVX.
    if (__builtin_cpu_supports("avx"))
      out.insert(out.end(), {YMMH(0), YMMH(1), YMMH(2), YMMH(3), YMMH(4), YMMH(5), YMMH(6), YMMH(7), YMMH(8), YMMH(9),
                             YMMH(10), YMMH(11), YMMH(12), YMMH(13), YMMH(14), YMMH(15)});
    return out;
  }();
  return regs;
}
#undef USER
#undef XSAVE
#undef ST
#undef XMM
#undef YMMH

// Register numbers where each feature begins, as gdb's features split them.
constexpr std::size_t kSse = 40, kLinux = 57, kSegments = 58, kAvx = 60;

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
          "<vector id=\"v8bf16\" type=\"bfloat16\" count=\"8\"/><vector id=\"v8h\" type=\"ieee_half\" count=\"8\"/>"
          "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/><vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
          "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/><vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
          "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/><vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
          "<union id=\"vec128\"><field name=\"v8_bfloat16\" type=\"v8bf16\"/><field name=\"v8_half\" type=\"v8h\"/>"
          "<field name=\"v4_float\" type=\"v4f\"/><field name=\"v2_double\" type=\"v2d\"/>"
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
    if (i == kAvx) xml += "</feature>\n<feature name=\"org.gnu.gdb.i386.avx\">\n";
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

namespace {

// The full x87 tag word (2 bits a register: valid, zero, special, empty)
// from FXSAVE's abridged one (1 bit a register: empty or not), as gdb makes it.
std::uint16_t x87_tag_word(const Bytes& xstate) {
  std::uint16_t fsw = static_cast<std::uint16_t>(xstate[2] | (xstate[3] << 8));
  int top = (fsw >> 11) & 7;
  std::uint16_t tags = 0;
  for (int reg = 0; reg < 8; ++reg) {
    int tag = 3;  // empty
    if (xstate[4] & (1 << reg)) {
      const std::uint8_t* value = xstate.data() + kSt0 + 16 * ((reg - top + 8) % 8);
      int exponent = (value[9] & 0x7f) << 8 | value[8];
      std::uint64_t mantissa;
      std::memcpy(&mantissa, value, 8);
      if (exponent == 0x7fff) tag = 2;
      else if (exponent == 0) tag = mantissa == 0 ? 1 : 2;
      else tag = (mantissa >> 63) ? 0 : 2;
    }
    tags |= static_cast<std::uint16_t>(tag << (2 * reg));
  }
  return tags;
}

}  // namespace

std::optional<std::string> register_bytes(const Registers& regs, const Bytes& xstate, std::size_t number) {
  if (number >= table().size()) return std::nullopt;
  const Reg& reg = table()[number];
  std::string out(reg.bits / 8, '\0');
  switch (reg.source) {
    case Source::user:
      std::memcpy(out.data(), reinterpret_cast<const char*>(&regs) + reg.offset, std::min<std::size_t>(out.size(), 8));
      return out;
    case Source::x87_tag: {
      if (xstate.size() < kXmm0) return std::nullopt;
      std::uint16_t tags = x87_tag_word(xstate);
      std::memcpy(out.data(), &tags, sizeof tags);
      return out;
    }
    case Source::xsave: {
      if (xstate.size() < reg.offset + reg.bytes) return std::nullopt;
      // The AVX halves are in their initial state (zeros) when XSTATE_BV says the area holds none.
      if (reg.offset >= kYmmHigh0) {
        std::uint64_t present = 0;
        if (xstate.size() >= kXstateBv + 8) std::memcpy(&present, xstate.data() + kXstateBv, 8);
        if (!(present & kAvxBit)) return out;
      }
      std::memcpy(out.data(), xstate.data() + reg.offset, reg.bytes);
      if (std::string_view(reg.name) == "fop") out[1] &= 0x07;  // fop's 11 bits
      return out;
    }
  }
  return std::nullopt;
}

}  // namespace ttdb::gdb
