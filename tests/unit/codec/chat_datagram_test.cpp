#include "codec/chat/chat_datagram.hpp"
#include "codec/chat/ipmsg_packet.hpp"
#include "codec/chat/text_encoding.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace sockit::codec::chat;
using namespace std::string_literals;
using Kind = Incoming::Kind;

TEST(IpmsgPacket, ParsesTheSixFieldsAndKeepsColonsAndNulsInExtra) {
  auto p = parse_packet("1:100:alice:pc1:288:hi: there\0tail"s);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->number, 100u);
  EXPECT_EQ(p->user, "alice");
  EXPECT_EQ(p->host, "pc1");
  EXPECT_EQ(p->command, 288u);
  EXPECT_EQ(p->mode(), kSendMsg);
  EXPECT_TRUE(p->has(kSendCheckOpt));
  EXPECT_EQ(p->extra, "hi: there\0tail"s);
  EXPECT_EQ(build_packet(*p), "1:100:alice:pc1:288:hi: there\0tail"s);
}

TEST(IpmsgPacket, AcceptsFeiqVersionsAndAMissingExtra) {
  auto p = parse_packet("1_lbt6_0#128#000C29:5:bob:host:1");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->mode(), kBrEntry);
  EXPECT_EQ(p->extra, "");
}

TEST(IpmsgPacket, RefusesWhatIsNotAPacket) {
  for (std::string text : std::vector<std::string>{"hello", "1:2:3", "2:1:u:h:32:x", "1:-1:u:h:32:x",
                                                   "1:1:u:h:+32:x", "1:1:u:h:4294967296:x",
                                                   "1:99999999999999999999:u:h:1:", "1::u:h:1:", "1:1:u:h::x",
                                                   "1:1:u\0:h:1:"s, "1:1:" + std::string(200, 'u') + ":h:1:"})
    EXPECT_FALSE(parse_packet(text)) << text;
}

TEST(IpmsgPacket, SplitsExtraAtTheFirstNul) {
  auto extra = "nick\0group\0"s;
  auto parts = split_extra(extra);
  EXPECT_EQ(parts.head, "nick");
  EXPECT_EQ(parts.tail, "group\0"s);
  EXPECT_EQ(split_extra("plain").tail, "");
}

TEST(ChatDatagram, PlainTextIsAMessageWithoutItsLineEnding) {
  auto in = classify("hi there\r\n");
  EXPECT_EQ(in.kind, Kind::plain);
  EXPECT_EQ(in.text, "hi there");
  EXPECT_EQ(classify("").kind, Kind::empty);
  EXPECT_EQ(classify("\n").kind, Kind::empty);
  EXPECT_EQ(classify(std::string(kMaxDatagram + 1, 'x')).kind, Kind::oversized);
}

TEST(ChatDatagram, PlainGbkIsDecoded) {
  // "你好" in GBK.
  auto in = classify("\xC4\xE3\xBA\xC3");
  EXPECT_EQ(in.kind, Kind::plain);
  EXPECT_EQ(in.text, "你好");
}

TEST(ChatDatagram, MessagesRoundTripWithTheOrderingTag) {
  Identity me{"alice", "pc1", "Alice", "lab"};
  auto in = classify(message_packet(me, 7, "héllo: 你好", true, 6));
  EXPECT_EQ(in.kind, Kind::message);
  EXPECT_EQ(in.number, 7u);
  EXPECT_EQ(in.text, "héllo: 你好");
  EXPECT_TRUE(in.wants_ack);
  EXPECT_TRUE(in.utf8);
  EXPECT_EQ(in.prev, 6u);
  auto first = classify(message_packet(me, 8, "x", true, 0));
  EXPECT_EQ(first.prev, 0u);
  EXPECT_FALSE(classify(message_packet(me, 9, "x", true, std::nullopt)).prev);
}

TEST(ChatDatagram, OldClientsGetGbk) {
  Identity me{"alice", "pc1", "", ""};
  auto bytes = message_packet(me, 1, "你好", false, std::nullopt);
  EXPECT_NE(bytes.find("\xC4\xE3\xBA\xC3"), std::string::npos);
  auto p = parse_packet(bytes);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->has(kUtf8Opt));
  EXPECT_EQ(classify(bytes).text, "你好");
}

TEST(ChatDatagram, PresenceAndAcks) {
  Identity me{"alice", "pc1", "Alice", "lab"};
  auto entry = classify(presence_packet(me, 1, kBrEntry));
  EXPECT_EQ(entry.kind, Kind::entry);
  EXPECT_EQ(entry.name, "Alice");
  EXPECT_TRUE(entry.from_sockit);
  EXPECT_FALSE(classify("1:9:u:h:1:nick\0group"s).from_sockit);
  EXPECT_EQ(classify(presence_packet(me, 2, kAnsEntry)).kind, Kind::answer);
  auto exit = classify(presence_packet(me, 3, kBrExit));
  EXPECT_EQ(exit.kind, Kind::exit);
  EXPECT_EQ(exit.name, "alice");
  auto ack = classify(ack_packet(me, 4, 123));
  EXPECT_EQ(ack.kind, Kind::ack);
  EXPECT_EQ(ack.acked, 123u);
  EXPECT_TRUE(ack.from_sockit);
  EXPECT_EQ(classify("1:9:u:h:33:77").acked, 77u);
  EXPECT_EQ(classify("1:5:u:h:33:notanumber").kind, Kind::other);
  EXPECT_EQ(classify("1:5:u:h:64:").kind, Kind::other);  // GETINFO: not supported
}

TEST(ChatDatagram, TooLongMessagesAreRefusedWithTheLimit) {
  Identity me;
  EXPECT_EQ(why_unsendable(me, "hi", false), "");
  EXPECT_NE(why_unsendable(me, std::string(kMaxDatagram, 'x'), false).find("does not fit"),
            std::string::npos);
  EXPECT_EQ(why_unsendable(me, std::string(kMaxPlainText, 'x'), true), "");
  EXPECT_NE(why_unsendable(me, std::string(kMaxPlainText + 1, 'x'), true).find("1024"), std::string::npos);
  EXPECT_NE(why_unsendable(me, "", false), "");
  // The largest message the error allows does fit.
  auto error = why_unsendable(me, std::string(kMaxDatagram, 'x'), false);
  auto most = std::stoul(error.substr(error.find("at most ") + 8));
  EXPECT_EQ(why_unsendable(me, std::string(most, 'x'), false), "");
  EXPECT_NE(why_unsendable(me, std::string(most + 1, 'x'), false), "");
}

TEST(TextEncoding, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_TRUE(is_valid_utf8("héllo"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));      // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));  // surrogate
  EXPECT_EQ(sanitize_utf8("a\xFF"
                          "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(decode_text("a\xFF", true), "a\xEF\xBF\xBD");
  // A lone GBK lead byte at the end.
  EXPECT_EQ(gbk_to_utf8("\xC4\xE3\xBA"), "你\xEF\xBF\xBD");
  EXPECT_EQ(utf8_to_gbk("a😀b"), "a?b");
}

TEST(TextEncoding, ControlCharactersCannotReachTheTerminal) {
  EXPECT_EQ(printable("a\x1b[2Jb"), "a\xEF\xBF\xBD[2Jb");
  EXPECT_EQ(printable("line1\r\nline2\tx"), "line1\nline2\tx");
  EXPECT_EQ(printable("\xC2\x9B"
                      "31m"),
            "\xEF\xBF\xBD"
            "31m");
  EXPECT_EQ(escape_line("a\\b\nc"), "a\\\\b\\nc");
}
