// The gdb remote protocol's framing: what arrives from a socket anyone can
// write to is cut into packets, NAKed, or skipped, never trusted.
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "ttdb/gdbserver/packets.h"

namespace ttdb::gdb {
namespace {

std::vector<Input> read_all(std::string_view bytes) {
  Reader reader;
  reader.feed(bytes);
  std::vector<Input> out;
  while (auto input = reader.next()) out.push_back(*input);
  return out;
}

TEST(GdbPacketTest, FramesWithChecksumAndEscapes) {
  EXPECT_EQ(frame("OK"), "$OK#9a");
  EXPECT_EQ(frame(""), "$#00");
  // '$', '#', '}' and '*' travel escaped: '}' then the byte xor 0x20.
  EXPECT_EQ(frame("a#b").substr(0, 5), "$a}\x03" "b");
  auto back = read_all(frame(std::string("x$y#z}w*v\0u", 11)));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].kind, Input::Kind::packet);
  EXPECT_EQ(back[0].data, std::string("x$y#z}w*v\0u", 11));
}

TEST(GdbPacketTest, ReadsPacketsAcksAndInterrupts) {
  auto inputs = read_all("+$qSupported:multiprocess+#c6-\x03junk$g#67");
  ASSERT_EQ(inputs.size(), 5u);
  EXPECT_EQ(inputs[0].kind, Input::Kind::ack);
  EXPECT_EQ(inputs[1].kind, Input::Kind::packet);
  EXPECT_EQ(inputs[1].data, "qSupported:multiprocess+");
  EXPECT_EQ(inputs[2].kind, Input::Kind::nak);
  EXPECT_EQ(inputs[3].kind, Input::Kind::interrupt);
  EXPECT_EQ(inputs[4].data, "g");
}

TEST(GdbPacketTest, PacketsCanArriveInPieces) {
  Reader reader;
  reader.feed("$m4010");
  EXPECT_FALSE(reader.next());
  reader.feed("00,4#");
  EXPECT_FALSE(reader.next());
  reader.feed("f");
  EXPECT_FALSE(reader.next());
  reader.feed("2");
  auto input = reader.next();
  ASSERT_TRUE(input);
  EXPECT_EQ(input->kind, Input::Kind::packet);
  EXPECT_EQ(input->data, "m401000,4");
}

TEST(GdbPacketTest, BadChecksumsAndEscapesAreNakedNotTrusted) {
  auto inputs = read_all("$g#00$g#zz$abc}#");
  ASSERT_GE(inputs.size(), 2u);
  EXPECT_EQ(inputs[0].kind, Input::Kind::bad);
  EXPECT_EQ(inputs[1].kind, Input::Kind::bad);
  // A packet ending in a lone escape.
  std::string body = "abc}";
  char sum[3];
  std::snprintf(sum, sizeof sum, "%02x", checksum(body));
  auto escaped = read_all("$" + body + "#" + sum);
  ASSERT_EQ(escaped.size(), 1u);
  EXPECT_EQ(escaped[0].kind, Input::Kind::bad);
}

TEST(GdbPacketTest, RunLengthEncodingExpandsAndBadCountsAreRefused) {
  EXPECT_EQ(decode_body("0* "), std::string(4, '0'));  // ' ' is 32: three more
  EXPECT_FALSE(decode_body("*a"));                     // nothing to repeat
  EXPECT_FALSE(decode_body("a*"));                     // no count
  EXPECT_FALSE(decode_body("a*\x01"));                 // a negative count
}

TEST(GdbPacketTest, OversizePacketsAreDroppedWithoutGrowingForever) {
  Reader reader;
  std::string huge = "$" + std::string(kMaxPacket * 3, 'a');
  reader.feed(huge);
  auto input = reader.next();
  ASSERT_TRUE(input);
  EXPECT_EQ(input->kind, Input::Kind::too_long);
  reader.feed("#00$g#67");
  std::vector<Input> rest;
  while (auto next = reader.next()) rest.push_back(*next);
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back().data, "g");
  // Run-length encoding cannot expand a short packet past the limit either.
  std::string bomb = "a";
  for (std::size_t i = 0; i < kMaxPacket / 90 + 10; ++i) bomb += "*~a";
  EXPECT_FALSE(decode_body(bomb));
}

TEST(GdbPacketTest, Hex) {
  EXPECT_EQ(to_hex(std::string("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(from_hex("00fF10"), std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("zz"));
  EXPECT_EQ(parse_hex("7fffffffe000"), 0x7fffffffe000u);
  EXPECT_FALSE(parse_hex(""));
  EXPECT_FALSE(parse_hex("12345678123456789"));
  EXPECT_FALSE(parse_hex("-1"));
  EXPECT_EQ(le_hex(0x401136, 8), "3611400000000000");
  EXPECT_EQ(le_hex(0x246, 4), "46020000");
  EXPECT_EQ(split("a,b,,c", ',').size(), 4u);
}

}  // namespace
}  // namespace ttdb::gdb
