// Fuzzes the gdb remote protocol's packet layer (ui/src/gdb_packets.h): the
// bytes a debugger (or anyone who can reach `ttdb serve --port`) sends are
// cut into packets, in chunks of any size; each packet's fields go through
// the hex parsers the server uses. Any input must be read or refused, never
// crash, hang or grow without bound; and a packet framed by frame() must
// read back as itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ttdb/gdbserver/packets.h"

namespace {

void parse_fields(std::string_view data) {
  for (char separator : {',', ':', ';'})
    for (std::string_view field : ttdb::gdb::split(data, separator)) {
      (void)ttdb::gdb::parse_hex(field);
      (void)ttdb::gdb::from_hex(field);
    }
}

void round_trip(const std::string& data) {
  ttdb::gdb::Reader reader;
  reader.feed(ttdb::gdb::frame(data));
  auto again = reader.next();
  // Escaping may double a packet: only those that fit the limit framed come back.
  bool fits = 2 * data.size() + 4 < ttdb::gdb::kMaxPacket;
  if (fits && (!again || again->kind != ttdb::gdb::Input::Kind::packet || again->data != data)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  // The first byte sets how the rest arrives: in chunks of 1 to 256 bytes.
  std::size_t chunk = static_cast<std::size_t>(bytes[0]) + 1;
  std::string_view input(reinterpret_cast<const char*>(bytes + 1), size - 1);
  ttdb::gdb::Reader reader;
  for (std::size_t at = 0; at < input.size(); at += chunk) {
    reader.feed(input.substr(at, chunk));
    while (auto got = reader.next()) {
      if (got->kind != ttdb::gdb::Input::Kind::packet) continue;
      parse_fields(got->data);
      round_trip(got->data);
    }
  }
  (void)ttdb::gdb::decode_body(input);
  return 0;
}
