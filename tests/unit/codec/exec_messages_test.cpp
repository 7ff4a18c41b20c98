#include "codec/exec_messages.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codec/frame.hpp"

namespace exec = sockit::codec::exec;
using exec::RunForm;

TEST(ExecTypes, MatchTheDocument) {
  EXPECT_EQ(+exec::Type::auth, 0x10);
  EXPECT_EQ(+exec::Type::auth_ok, 0x11);
  EXPECT_EQ(+exec::Type::run, 0x12);
  EXPECT_EQ(+exec::Type::stdin_data, 0x13);
  EXPECT_EQ(+exec::Type::stdout_data, 0x14);
  EXPECT_EQ(+exec::Type::stderr_data, 0x15);
  EXPECT_EQ(+exec::Type::exit, 0x16);
  EXPECT_EQ(+exec::Type::signal, 0x17);
}

TEST(ExecRun, PayloadIsFormThenNulSeparatedStrings) {
  using namespace std::literals;
  EXPECT_EQ(exec::run_payload({RunForm::argv, {"ls", "-l", "/tmp"}}), "\0ls\0-l\0/tmp"s);
  EXPECT_EQ(exec::run_payload({RunForm::command_line, {"ls -l | wc"}}), "\x01ls -l | wc"s);
}

TEST(ExecRun, RoundTrip) {
  std::vector<exec::Run> runs = {
      {RunForm::argv, {"ls"}},
      {RunForm::argv, {"ls", "-l", "/tmp"}},
      {RunForm::argv, {"printf", ""}},             // empty arguments are arguments
      {RunForm::argv, {"echo", "", "", "x", ""}},  // even several, even last
      {RunForm::argv, {"caf\xc3\xa9", "a b\tc\n"}},
      {RunForm::command_line, {"ls -l | wc"}},
      {RunForm::command_line, {" "}},
  };
  for (const auto& run : runs) {
    auto parsed = exec::parse_run(exec::run_payload(run));
    ASSERT_TRUE(parsed) << run.args[0];
    EXPECT_EQ(parsed->form, run.form);
    EXPECT_EQ(parsed->args, run.args);
  }
}

TEST(ExecRun, MalformedIsRejected) {
  using namespace std::literals;
  EXPECT_FALSE(exec::parse_run(""));             // no form
  EXPECT_FALSE(exec::parse_run("\0"s));          // no argument
  EXPECT_FALSE(exec::parse_run("\x01"s));        // no command line
  EXPECT_FALSE(exec::parse_run("\x02ls"s));      // unknown form
  EXPECT_FALSE(exec::parse_run("\xffls"s));      // unknown form
  EXPECT_FALSE(exec::parse_run("\0\0-l"s));      // empty program name
  EXPECT_FALSE(exec::parse_run("\0\0"s));        // empty program name
  EXPECT_FALSE(exec::parse_run("\x01ls\0-l"s));  // command line of two strings
  EXPECT_FALSE(exec::parse_run("\x01ls\0"s));    // command line of two strings
  EXPECT_FALSE(exec::parse_run("\x01\0ls"s));    // command line of two strings
  EXPECT_TRUE(exec::parse_run("\0ls\0"s));       // argv "ls", ""
  EXPECT_EQ(exec::parse_run("\0ls\0"s)->args, (std::vector<std::string>{"ls", ""}));
}

TEST(ExecExit, RoundTrip) {
  using namespace std::literals;
  EXPECT_EQ(exec::exit_payload({false, 0, ""}), "\0\0"s);
  EXPECT_EQ(exec::exit_payload({true, 9, "timeout"}), "\x01\x09timeout"s);
  for (exec::Exit exit : {exec::Exit{false, 0, ""}, exec::Exit{false, 127, ""}, exec::Exit{false, 255, ""},
                          exec::Exit{true, 15, ""}, exec::Exit{true, 9, "output limit"}}) {
    auto parsed = exec::parse_exit(exec::exit_payload(exit));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->signaled, exit.signaled);
    EXPECT_EQ(parsed->value, exit.value);
    EXPECT_EQ(parsed->reason, exit.reason);
  }
}

TEST(ExecExit, MalformedIsRejected) {
  using namespace std::literals;
  EXPECT_FALSE(exec::parse_exit(""));
  EXPECT_FALSE(exec::parse_exit("\0"s));        // how without a value
  EXPECT_FALSE(exec::parse_exit("\x02\x00"s));  // how is 0 or 1
  EXPECT_FALSE(exec::parse_exit("\xff\x00x"s));
  EXPECT_TRUE(exec::parse_exit("\x01\x00"s));
}

TEST(ExecSignal, RoundTripOfEveryForwardableSignal) {
  for (int signal : {1, 2, 3, 9, 15}) {
    EXPECT_TRUE(exec::is_forwardable_signal(signal));
    auto payload = exec::signal_payload(signal);
    EXPECT_EQ(payload, std::string(1, static_cast<char>(signal)));
    EXPECT_EQ(exec::parse_signal(payload), signal);
  }
}

TEST(ExecSignal, MalformedIsRejected) {
  using namespace std::literals;
  for (int signal = 0; signal < 256; ++signal) {
    bool allowed = signal == 1 || signal == 2 || signal == 3 || signal == 9 || signal == 15;
    EXPECT_EQ(exec::is_forwardable_signal(signal), allowed) << signal;
    EXPECT_EQ(exec::parse_signal(std::string(1, static_cast<char>(signal))).has_value(), allowed) << signal;
  }
  EXPECT_FALSE(exec::is_forwardable_signal(-2));
  EXPECT_FALSE(exec::is_forwardable_signal(256 + 2));
  EXPECT_FALSE(exec::parse_signal(""));
  EXPECT_FALSE(exec::parse_signal("\x02\x02"s));  // exactly one byte
  EXPECT_FALSE(exec::parse_signal("\x02\x00"s));
}

TEST(ExecSession, PipelinedClientFramesDecodeInOrder) {
  // The docs' session: HELLO, AUTH and RUN in one write, then stdin and EOF.
  using sockit::codec::append_frame;
  std::string wire;
  append_frame(wire, static_cast<std::uint8_t>(sockit::codec::FrameType::hello),
               sockit::codec::hello_payload({exec::kVersion, std::string(exec::kService)}));
  append_frame(wire, +exec::Type::auth, "s3cret");
  append_frame(wire, +exec::Type::run, exec::run_payload({RunForm::argv, {"wc", "-c"}}));
  append_frame(wire, +exec::Type::stdin_data, "hello\n");
  append_frame(wire, +exec::Type::stdin_data, "");
  append_frame(wire, +exec::Type::signal, exec::signal_payload(2));

  sockit::codec::FrameDecoder decoder;
  decoder.feed(wire);
  sockit::codec::Frame frame;
  std::vector<int> types;
  ASSERT_EQ(decoder.next(frame), sockit::codec::FrameDecoder::Status::frame);
  types.push_back(frame.type);
  auto hello = sockit::codec::parse_hello(frame.text());
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->service, exec::kService);
  EXPECT_EQ(hello->version, exec::kVersion);
  while (decoder.next(frame) == sockit::codec::FrameDecoder::Status::frame) {
    types.push_back(frame.type);
    if (frame.type == +exec::Type::auth) {
      EXPECT_EQ(frame.text(), "s3cret");
    } else if (frame.type == +exec::Type::run) {
      auto run = exec::parse_run(frame.text());
      ASSERT_TRUE(run);
      EXPECT_EQ(run->args, (std::vector<std::string>{"wc", "-c"}));
    } else if (frame.type == +exec::Type::signal) {
      EXPECT_EQ(exec::parse_signal(frame.text()), 2);
    }
  }
  EXPECT_EQ(types, (std::vector<int>{0x01, 0x10, 0x12, 0x13, 0x13, 0x17}));
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(ExecMessagesStdinAck, RoundTripsAndRejectsBadPayloads) {
  using namespace sockit::codec::exec;
  EXPECT_EQ(parse_stdin_ack(stdin_ack_payload(1)), 1u);
  EXPECT_EQ(parse_stdin_ack(stdin_ack_payload(0x01020304)), 0x01020304u);
  EXPECT_EQ(stdin_ack_payload(0x01020304), std::string("\x01\x02\x03\x04", 4));
  EXPECT_FALSE(parse_stdin_ack(stdin_ack_payload(0)));  // acknowledging nothing is malformed
  EXPECT_FALSE(parse_stdin_ack("abc"));
  EXPECT_FALSE(parse_stdin_ack("abcde"));
}
