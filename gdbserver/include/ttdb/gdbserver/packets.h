// The gdb remote serial protocol's framing: packets ($data#checksum), their
// escapes and run-length encoding, and the hex the packets carry. Pure
// functions over bytes, so that the server's input (which anyone who can
// talk to its socket controls) is parsed in one place, and unit-tested.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ttdb::gdb {

// The largest packet ttdb accepts or sends (the PacketSize it advertises).
constexpr std::size_t kMaxPacket = 0x4000;

std::uint8_t checksum(std::string_view data);
// "$data#cs", with '$', '#', '}' and '*' escaped.
std::string frame(std::string_view data);
// The hex of `bytes`, two lowercase digits a byte.
std::string to_hex(std::string_view bytes);
// The bytes of an even-length hex string; nullopt for anything else.
std::optional<std::string> from_hex(std::string_view hex);
// A hex number (at most 16 digits); nullopt for anything else.
std::optional<std::uint64_t> parse_hex(std::string_view hex);
// A 64-bit value as gdb's registers carry it: little-endian bytes, in hex.
std::string le_hex(std::uint64_t value, std::size_t size);
// `text` split at every `separator`.
std::vector<std::string_view> split(std::string_view text, char separator);

// What the reader found in the bytes received.
struct Input {
  enum class Kind {
    packet,     // a well-formed packet: `data` (unescaped, expanded)
    bad,        // a packet with a wrong checksum or a bad escape: NAK it
    too_long,   // a packet longer than kMaxPacket: NAK it, its bytes dropped
    interrupt,  // a ^C (0x03) outside a packet
    ack,        // '+'
    nak,        // '-'
  };
  Kind kind;
  std::string data;
};

// Collects bytes and cuts them into Inputs, whatever arrives: stray bytes
// between packets are skipped.
class Reader {
 public:
  void feed(std::string_view bytes);
  // The next complete input, if the bytes so far hold one.
  std::optional<Input> next();

 private:
  std::string buffer_;
};

// Undoes the escapes ('}' then the byte xor 0x20) and run-length encoding
// ('*' then a count) of a packet's body; nullopt when they are malformed.
std::optional<std::string> decode_body(std::string_view body);

}  // namespace ttdb::gdb
