#include "services/echo/echo_config.hpp"
#include "services/echo/transform.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

using namespace sockit::echo;

TEST(EchoTransform, UpperChangesOnlyAsciiLetters) {
  std::string text = "hello, World! 123 héllo 你好 \xff\x00z";
  text += std::string("\x00", 1);
  std::string expected = "HELLO, WORLD! 123 HéLLO 你好 \xff\x00Z";
  expected += std::string("\x00", 1);
  upper_ascii(text);
  EXPECT_EQ(text, expected);
}

TEST(EchoTransform, UpperIsTheSameWhateverTheSplit) {
  std::string whole =
      "ab\xc3\xa9"
      "cd";  // "abécd", é split below
  std::string a = whole.substr(0, 3), b = whole.substr(3);
  upper_ascii(a);
  upper_ascii(b);
  upper_ascii(whole);
  EXPECT_EQ(a + b, whole);
}

TEST(EchoConfig, ModesAndValidation) {
  EXPECT_EQ(parse_mode("upper"), Mode::upper);
  EXPECT_THROW(parse_mode("shout"), std::invalid_argument);
  EchoConfig config;
  EXPECT_THROW(validate(config), std::invalid_argument) << "no address";
  config.tcp = {"127.0.0.1:0"};
  EXPECT_NO_THROW(validate(config));
  config.tcp = {"127.0.0.1:99999"};
  EXPECT_THROW(validate(config), std::invalid_argument);
  config.tcp = {"127.0.0.1:0"};
  config.mode = Mode::reply;
  config.reply_template = "{nope}";
  EXPECT_THROW(validate(config), std::invalid_argument);
  config.mode = Mode::echo;
  config.max_message = 0;
  EXPECT_THROW(validate(config), std::invalid_argument);
}
