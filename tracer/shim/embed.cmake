# Writes OUTPUT, a C++ file holding the bytes of INPUT as ttdb::shim_code.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" length)
math(EXPR size "${length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from the shim's build (tracer/shim): do not edit.\n"
  "#include <cstddef>\n#include <cstdint>\n"
  "namespace ttdb {\nextern const std::uint8_t shim_code[] = {${bytes}};\n"
  "extern const std::size_t shim_code_size = ${size};\n}  // namespace ttdb\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
