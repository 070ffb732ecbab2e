#include "ttdb/gdbserver/packets.h"

namespace ttdb::gdb {

std::uint8_t checksum(std::string_view data) {
  unsigned sum = 0;
  for (unsigned char c : data) sum += c;
  return static_cast<std::uint8_t>(sum & 0xff);
}

namespace {
constexpr char kDigits[] = "0123456789abcdef";

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string frame(std::string_view data) {
  std::string body;
  body.reserve(data.size() + 8);
  for (char c : data) {
    if (c == '$' || c == '#' || c == '}' || c == '*') {
      body += '}';
      body += static_cast<char>(c ^ 0x20);
    } else {
      body += c;
    }
  }
  std::uint8_t sum = checksum(body);
  std::string out = "$" + body + "#";
  out += kDigits[sum >> 4];
  out += kDigits[sum & 0xf];
  return out;
}

std::string to_hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::optional<std::uint64_t> parse_hex(std::string_view hex) {
  if (hex.empty() || hex.size() > 16) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : hex) {
    int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    value = value << 4 | static_cast<std::uint64_t>(d);
  }
  return value;
}

std::string le_hex(std::uint64_t value, std::size_t size) {
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    unsigned byte = i < 8 ? static_cast<unsigned>((value >> (8 * i)) & 0xff) : 0;
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0xf];
  }
  return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t at = text.find(separator, start);
    if (at == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, at - start));
    start = at + 1;
  }
}

std::optional<std::string> decode_body(std::string_view body) {
  std::string out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '}') {
      if (++i == body.size()) return std::nullopt;
      out += static_cast<char>(body[i] ^ 0x20);
    } else if (c == '*') {
      // The next byte minus 29 repeats the previous byte that many more times.
      if (out.empty() || ++i == body.size()) return std::nullopt;
      int count = static_cast<unsigned char>(body[i]) - 29;
      if (count < 0 || count > 126 - 29) return std::nullopt;
      out.append(static_cast<std::size_t>(count), out.back());
    } else {
      out += c;
    }
    if (out.size() > kMaxPacket) return std::nullopt;
  }
  return out;
}

void Reader::feed(std::string_view bytes) { buffer_.append(bytes); }

std::optional<Input> Reader::next() {
  while (!buffer_.empty()) {
    char c = buffer_[0];
    if (c == '+' || c == '-' || c == '\x03') {
      buffer_.erase(0, 1);
      return Input{c == '+' ? Input::Kind::ack : c == '-' ? Input::Kind::nak : Input::Kind::interrupt, {}};
    }
    if (c != '$') {
      buffer_.erase(0, 1);  // noise between packets
      continue;
    }
    std::size_t hash = buffer_.find('#', 1);
    if (hash == std::string::npos) {
      if (buffer_.size() > kMaxPacket + 4) {
        // Never ends: drop what came so far, and skip to the next packet.
        std::size_t next = buffer_.find('$', 1);
        buffer_.erase(0, next == std::string::npos ? buffer_.size() : next);
        return Input{Input::Kind::too_long, {}};
      }
      return std::nullopt;
    }
    if (buffer_.size() < hash + 3) return std::nullopt;
    std::string_view body(buffer_.data() + 1, hash - 1);
    auto sent = parse_hex(std::string_view(buffer_.data() + hash + 1, 2));
    Input input{Input::Kind::bad, {}};
    if (body.size() > kMaxPacket * 2) {
      input.kind = Input::Kind::too_long;
    } else if (sent && *sent == checksum(body)) {
      if (auto data = decode_body(body)) input = Input{Input::Kind::packet, std::move(*data)};
    }
    buffer_.erase(0, hash + 3);
    return input;
  }
  return std::nullopt;
}

}  // namespace ttdb::gdb
