#include "codec/reply_template.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using sockit::codec::ReplyTemplate;

namespace {
std::string render(std::string_view text, std::string_view msg = "bob", std::string_view peer = "1.2.3.4:5") {
  std::string out;
  ReplyTemplate::parse(text).render(msg, peer, out);
  return out;
}
}  // namespace

TEST(ReplyTemplate, Placeholders) {
  EXPECT_EQ(render("Received msg: {msg} from {peer}"), "Received msg: bob from 1.2.3.4:5");
  EXPECT_EQ(render("Hello, {msg}!"), "Hello, bob!");
  EXPECT_EQ(render("hello"), "hello");
  EXPECT_EQ(render("{msg}{msg}"), "bobbob");
  EXPECT_EQ(render(""), "");
}

TEST(ReplyTemplate, BracesEscape) {
  EXPECT_EQ(render("{{msg}} {{{msg}}}"), "{msg} {bob}");
}

TEST(ReplyTemplate, BadTemplatesAreRejectedWithAReason) {
  try {
    ReplyTemplate::parse("hi {name}");
    FAIL() << "accepted an unknown placeholder";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("{name}"), std::string::npos);
  }
  EXPECT_THROW(ReplyTemplate::parse("open {msg"), std::invalid_argument);
  EXPECT_THROW(ReplyTemplate::parse("close }"), std::invalid_argument);
}

TEST(ReplyTemplate, MessageBracesAreNotInterpreted) {
  EXPECT_EQ(render("[{msg}]", "{peer}"), "[{peer}]");
}
