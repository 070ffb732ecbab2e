# Writes OUTPUT, a C++ file holding the bytes of INPUT as ttdb::shim_code,
# once they are known to be the same as MOVED's (the shim linked at another
# base): bytes that depend on where they are linked would break at the base
# a recording chooses.
file(READ "${INPUT}" hex HEX)
file(READ "${MOVED}" moved HEX)
if(NOT hex STREQUAL moved)
  message(FATAL_ERROR "the shim's code depends on the address it is linked at (an absolute address in "
                      "tracer/shim/); compare ${INPUT} with ${MOVED} and make the reference rip-relative")
endif()
string(LENGTH "${hex}" length)
math(EXPR size "${length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from the shim's build (tracer/shim): do not edit.\n"
  "#include <cstddef>\n#include <cstdint>\n"
  "namespace ttdb {\nextern const std::uint8_t shim_code[] = {${bytes}};\n"
  "extern const std::size_t shim_code_size = ${size};\n}  // namespace ttdb\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
