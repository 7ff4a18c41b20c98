#include "codec/message_splitter.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

using sockit::codec::MessageSplitter;

namespace {
// Feeds `input` in chunks of the given sizes; returns "text|ending" per message.
std::vector<std::string> split(std::string_view input, std::size_t max, std::vector<std::size_t> chunks,
                               bool flush_at_end = true) {
  MessageSplitter splitter(max);
  std::vector<std::string> out;
  std::size_t pos = 0, i = 0;
  while (pos < input.size()) {
    std::size_t n = std::min(chunks[i++ % chunks.size()], input.size() - pos);
    EXPECT_EQ(splitter.feed(input.substr(pos, n)), MessageSplitter::Status::ok);
    pos += n;
    while (auto m = splitter.next()) out.push_back(std::string(m->text) + "|" + std::string(m->ending));
  }
  if (flush_at_end)
    if (auto m = splitter.flush()) out.push_back(std::string(m->text) + "|");
  return out;
}
}  // namespace

TEST(MessageSplitter, LinesKeepTheirEnding) {
  auto got = split("Michael\nTracy\r\nSarah", 100, {1000});
  EXPECT_EQ(got, (std::vector<std::string>{"Michael|\n", "Tracy|\r\n", "Sarah|"}));
}

TEST(MessageSplitter, ByteAtATimeEqualsWhole) {
  std::string input = "one\ntwo\r\n\nthree\r\nfour";
  EXPECT_EQ(split(input, 100, {1}), split(input, 100, {input.size()}));
}

TEST(MessageSplitter, RandomSplitsEqualWhole) {
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::string input;
    for (int i = 0; i < 50; ++i) {
      int kind = rng() % 10;
      input += kind == 0 ? '\n' : kind == 1 ? '\r' : static_cast<char>('a' + rng() % 26);
    }
    std::vector<std::size_t> chunks;
    for (int i = 0; i < 10; ++i) chunks.push_back(1 + rng() % 8);
    EXPECT_EQ(split(input, 64, chunks), split(input, 64, {input.size()})) << input;
  }
}

TEST(MessageSplitter, ManyMessagesInOneRead) {
  std::string input;
  for (int i = 0; i < 1000; ++i) input += "m" + std::to_string(i) + "\n";
  auto got = split(input, 10, {input.size()});
  ASSERT_EQ(got.size(), 1000u);
  EXPECT_EQ(got[999], "m999|\n");
}

TEST(MessageSplitter, NoPartialMeansNothingToFlush) {
  MessageSplitter splitter(10);
  splitter.feed("a\n");
  EXPECT_TRUE(splitter.next());
  EXPECT_FALSE(splitter.has_partial());
  EXPECT_FALSE(splitter.flush());
}

TEST(MessageSplitter, LimitIsExactForLinesAndPartials) {
  MessageSplitter ok(5);
  EXPECT_EQ(ok.feed("12345\r\n"), MessageSplitter::Status::ok);
  EXPECT_EQ(ok.next()->text, "12345");
  MessageSplitter line(5);
  EXPECT_EQ(line.feed("123456\n"), MessageSplitter::Status::too_long);
  MessageSplitter partial(5);
  EXPECT_EQ(partial.feed("12345"), MessageSplitter::Status::ok);
  EXPECT_EQ(partial.feed("\r"), MessageSplitter::Status::ok) << "may still be 12345\\r\\n";
  EXPECT_EQ(partial.feed("6"), MessageSplitter::Status::too_long);
  MessageSplitter slow(5);
  for (char c : std::string("abcde")) EXPECT_EQ(slow.feed(std::string(1, c)), MessageSplitter::Status::ok);
  EXPECT_EQ(slow.feed("fg"), MessageSplitter::Status::too_long);
}

TEST(MessageSplitter, LimitCheckedOnEveryLineOfARead) {
  MessageSplitter splitter(3);
  EXPECT_EQ(splitter.feed("ab\nabcdef\nx\n"), MessageSplitter::Status::too_long);
}

// Found by fuzz_message_splitter: nothing comes out after too_long.
TEST(MessageSplitter, StaysFailedAfterTooLong) {
  MessageSplitter splitter(3);
  EXPECT_EQ(splitter.feed("ok\ntoolong\n"), MessageSplitter::Status::too_long);
  EXPECT_FALSE(splitter.next());
  EXPECT_FALSE(splitter.flush());
  EXPECT_EQ(splitter.feed("a\n"), MessageSplitter::Status::too_long);
}
