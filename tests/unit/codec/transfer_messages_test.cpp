#include "codec/transfer_messages.hpp"
#include "codec/wire.hpp"

#include <gtest/gtest.h>

using namespace sockit::codec::transfer;
using sockit::codec::WireReader;
using sockit::codec::WireWriter;

TEST(Wire, RoundTripsAndStopsAtTheEnd) {
  auto bytes = WireWriter().u8(1).u16(0x0203).u32(0x04050607).u64(0x08090a0b0c0d0e0fULL).text16("hi").take();
  EXPECT_EQ(bytes.size(), 1u + 2 + 4 + 8 + 2 + 2);
  WireReader in(bytes);
  EXPECT_EQ(in.u8(), 1);
  EXPECT_EQ(in.u16(), 0x0203);
  EXPECT_EQ(in.u32(), 0x04050607u);
  EXPECT_EQ(in.u64(), 0x08090a0b0c0d0e0fULL);
  EXPECT_EQ(in.text16(), "hi");
  EXPECT_TRUE(in.at_end());
  in.u8();
  EXPECT_FALSE(in.ok());  // past the end, for good
}

TEST(Wire, ATextLongerThanThePayloadIsAnError) {
  WireReader in(std::string_view("\x00\x09" "abc", 5));
  in.text16();
  EXPECT_FALSE(in.ok());
}

TEST(TransferNames, AcceptsOrdinaryRelativeNames) {
  for (const char* ok : {"a", "a/b/c.txt", "données/日本語 ファイル.txt", ".hidden", "a..b", "...", "x.sockit-part.txt"})
    EXPECT_EQ(path_problem(ok), "") << ok;
}

TEST(TransferNames, RefusesEveryWayOut) {
  EXPECT_EQ(path_problem(""), "is empty");
  EXPECT_EQ(path_problem("/etc/passwd"), "is absolute");
  EXPECT_EQ(path_problem(".."), "has a '..' component");
  EXPECT_EQ(path_problem("a/../../x"), "has a '..' component");
  EXPECT_EQ(path_problem("a/./x"), "has a '.' component");
  EXPECT_EQ(path_problem("a//x"), "has an empty component");
  EXPECT_EQ(path_problem("a/"), "has an empty component");
  EXPECT_EQ(path_problem("a\nb"), "has a control character");
  EXPECT_EQ(path_problem("a\x1b[2Jb"), "has a control character");
  EXPECT_EQ(path_problem(std::string_view("a\0b", 3)), "has a control character");
  EXPECT_EQ(path_problem("\xc0\xaf"), "is not valid UTF-8");       // overlong '/'
  EXPECT_EQ(path_problem("\xed\xa0\x80"), "is not valid UTF-8");   // surrogate
  EXPECT_EQ(path_problem("a\xff"), "is not valid UTF-8");
  EXPECT_EQ(path_problem(std::string(256, 'x')), "has a component over 255 bytes");
  EXPECT_EQ(path_problem(std::string(4096, 'a')), "is over 4095 bytes");
  EXPECT_NE(path_problem(".x.sockit-part"), "");  // the receiver's own temporary names
}

TEST(TransferMessages, EntryRoundTrips) {
  Entry e{42, EntryKind::file, 0640, 123456789012ULL, -5, 999999999, "dir/f.bin"};
  auto parsed = parse_entry(entry_payload(e));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->id, 42u);
  EXPECT_EQ(parsed->kind, EntryKind::file);
  EXPECT_EQ(parsed->mode, 0640u);
  EXPECT_EQ(parsed->size, 123456789012ULL);
  EXPECT_EQ(parsed->mtime_sec, -5);
  EXPECT_EQ(parsed->mtime_nsec, 999999999u);
  EXPECT_EQ(parsed->path, "dir/f.bin");
}

TEST(TransferMessages, EntryRejectsWhatCannotBeAFile) {
  Entry e{1, EntryKind::file, 0644, 1, 0, 0, "f"};
  auto good = entry_payload(e);
  EXPECT_FALSE(parse_entry(good.substr(0, good.size() - 1)));  // truncated
  EXPECT_FALSE(parse_entry(good + "x"));                       // trailing bytes
  e.mode = 04755;  // setuid is never carried
  EXPECT_FALSE(parse_entry(entry_payload(e)));
  e.mode = 0644;
  e.mtime_nsec = 1'000'000'000;
  EXPECT_FALSE(parse_entry(entry_payload(e)));
  e.mtime_nsec = 0;
  e.kind = EntryKind::directory;  // a directory has no size
  EXPECT_FALSE(parse_entry(entry_payload(e)));
  e.kind = EntryKind::file;
  e.size = 1ULL << 63;  // not an off_t
  EXPECT_FALSE(parse_entry(entry_payload(e)));
}

TEST(TransferMessages, AnEscapingNameStillParsesSoItCanBeRefused) {
  // The receiver answers a bad name with a refusal naming the problem; the
  // entry itself is well-formed.
  Entry e{3, EntryKind::file, 0644, 1, 0, 0, "../../etc/passwd"};
  auto parsed = parse_entry(entry_payload(e));
  ASSERT_TRUE(parsed);
  EXPECT_NE(path_problem(parsed->path), "");
}

TEST(TransferMessages, RoleNeedsADigestFromTheSenderOnly) {
  EXPECT_TRUE(parse_role(role_payload({Role::sender, DigestKind::xxh3_128, 2, 10})));
  EXPECT_TRUE(parse_role(role_payload({Role::receiver, DigestKind::none, 0, 0})));
  EXPECT_FALSE(parse_role(role_payload({Role::sender, DigestKind::none, 0, 0})));
  EXPECT_FALSE(parse_role(role_payload({Role::receiver, DigestKind::sha256, 0, 0})));
  auto bad = role_payload({Role::sender, DigestKind::sha256, 0, 0});
  bad[0] = 3;
  EXPECT_FALSE(parse_role(bad));
}

TEST(TransferMessages, AnswerStartEndResultRoundTrip) {
  auto answer = parse_answer(answer_payload({9, Verdict::refused, 0, "", "exists"}));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->verdict, Verdict::refused);
  EXPECT_EQ(answer->reason, "exists");
  auto resume = parse_answer(answer_payload({9, Verdict::send, 100, std::string(16, '\x01'), ""}));
  ASSERT_TRUE(resume);
  EXPECT_EQ(resume->offset, 100u);
  EXPECT_EQ(resume->digest, std::string(16, '\x01'));
  EXPECT_FALSE(parse_answer(answer_payload({9, Verdict::send, 0, std::string(65, 'x'), ""})));  // no such digest

  auto start = parse_start(start_payload({5, 77}));
  ASSERT_TRUE(start);
  EXPECT_EQ(start->offset, 77u);
  auto end = parse_end(end_payload({5, "abc"}));
  ASSERT_TRUE(end);
  EXPECT_EQ(end->digest, "abc");
  auto result = parse_result(result_payload({5, Outcome::failed, "checksum mismatch"}));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->outcome, Outcome::failed);
  EXPECT_EQ(result->reason, "checksum mismatch");
  EXPECT_FALSE(parse_result(std::string("\0\0\0\5\3", 5)));  // no outcome 3
}

TEST(TransferMessages, DigestNames) {
  EXPECT_EQ(parse_digest_name("xxh3"), DigestKind::xxh3_128);
  EXPECT_EQ(parse_digest_name("sha256"), DigestKind::sha256);
  EXPECT_FALSE(parse_digest_name("md5"));
  EXPECT_STREQ(digest_name(DigestKind::sha256), "sha256");
}
