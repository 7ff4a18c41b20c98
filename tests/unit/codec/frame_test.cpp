#include "codec/frame.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

using sockit::codec::append_frame;
using sockit::codec::ErrorCode;
using sockit::codec::Frame;
using sockit::codec::FrameDecoder;
using sockit::codec::kDefaultMaxPayload;
using sockit::codec::kFrameHeaderSize;

namespace {

using Frames = std::vector<std::pair<int, std::string>>;

struct Decoded {
  Frames frames;
  bool failed = false;
  ErrorCode code = ErrorCode::internal;
  std::string error;
  std::size_t buffered = 0;
};

void drain(FrameDecoder& decoder, Decoded& out) {
  Frame frame;
  for (;;) {
    auto status = decoder.next(frame);
    if (status == FrameDecoder::Status::need_more) return;
    if (status == FrameDecoder::Status::error) {
      out.failed = true;
      out.code = decoder.error_code();
      out.error = decoder.error();
      return;
    }
    out.frames.emplace_back(frame.type, std::string(frame.text()));
  }
}

// Feeds `stream` in pieces of the given sizes (cycled), draining after each;
// `zero_copy` uses prepare()/commit() instead of feed().
Decoded decode(std::string_view stream, std::vector<std::size_t> chunks,
               std::size_t max_payload = kDefaultMaxPayload, bool zero_copy = false) {
  FrameDecoder decoder(max_payload);
  Decoded out;
  std::size_t pos = 0, i = 0;
  while (pos < stream.size() && !out.failed) {
    std::size_t n = std::min(chunks[i++ % chunks.size()], stream.size() - pos);
    if (zero_copy) {
      auto space = decoder.prepare(n);
      EXPECT_GE(space.size(), n);
      std::memcpy(space.data(), stream.data() + pos, n);
      decoder.commit(n);
    } else {
      decoder.feed(stream.substr(pos, n));
    }
    pos += n;
    drain(decoder, out);
  }
  out.buffered = decoder.buffered();
  return out;
}

std::string frame(int type, std::string_view payload) {
  std::string out;
  append_frame(out, static_cast<std::uint8_t>(type), payload);
  return out;
}

std::string random_bytes(std::mt19937& rng, std::size_t n) {
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

// A stream of `count` random valid frames, and the frames it holds.
std::pair<std::string, Frames> random_stream(std::mt19937& rng, int count, std::size_t max_len) {
  std::string stream;
  Frames frames;
  for (int i = 0; i < count; ++i) {
    int type = 1 + static_cast<int>(rng() % 0x7f);
    // Many empty and tiny payloads, some long ones.
    std::size_t len = rng() % 4 == 0 ? 0 : rng() % (rng() % 8 == 0 ? max_len + 1 : 12);
    auto payload = random_bytes(rng, len);
    stream += frame(type, payload);
    frames.emplace_back(type, payload);
  }
  return {stream, frames};
}

}  // namespace

TEST(FrameEncode, HeaderIsTypeThenBigEndianLength) {
  auto header = sockit::codec::frame_header(0x14, 0x01020304);
  EXPECT_EQ(std::string(header.data(), header.size()), std::string("\x14\x01\x02\x03\x04", 5));
  EXPECT_EQ(frame(0x12, "ab"), std::string("\x12\0\0\0\x02"
                                           "ab",
                                           7));
  EXPECT_EQ(frame(0x13, ""), std::string("\x13\0\0\0\0", 5));

  std::vector<char> out{'x'};
  std::string_view payload = "hi";
  append_frame(out, 0x02, std::span<const char>(payload.data(), payload.size()));
  EXPECT_EQ(std::string(out.begin(), out.end()), std::string("x\x02\0\0\0\x02hi", 8));
}

TEST(FrameDecoder, OneFrame) {
  auto got = decode(frame(0x14, "hello"), {100});
  EXPECT_FALSE(got.failed);
  EXPECT_EQ(got.frames, (Frames{{0x14, "hello"}}));
  EXPECT_EQ(got.buffered, 0u);
}

TEST(FrameDecoder, ZeroLengthPayloads) {
  std::string stream = frame(0x13, "") + frame(0x11, "") + frame(0x13, "x") + frame(0x13, "");
  for (std::size_t chunk : {1u, 2u, 5u, 6u, 100u}) {
    auto got = decode(stream, {chunk});
    EXPECT_FALSE(got.failed);
    EXPECT_EQ(got.frames, (Frames{{0x13, ""}, {0x11, ""}, {0x13, "x"}, {0x13, ""}})) << chunk;
  }
}

TEST(FrameDecoder, NeedsWholeHeaderAndPayload) {
  FrameDecoder decoder;
  Frame frame;
  std::string bytes = ::frame(0x15, "abc");
  for (std::size_t i = 0; i + 1 < bytes.size(); ++i) {
    decoder.feed(bytes.substr(i, 1));
    EXPECT_EQ(decoder.next(frame), FrameDecoder::Status::need_more) << i;
    EXPECT_EQ(decoder.buffered(), i + 1);
  }
  decoder.feed(bytes.substr(bytes.size() - 1));
  ASSERT_EQ(decoder.next(frame), FrameDecoder::Status::frame);
  EXPECT_EQ(frame.type, 0x15);
  EXPECT_EQ(frame.text(), "abc");
  EXPECT_EQ(decoder.buffered(), 0u);
  EXPECT_EQ(decoder.next(frame), FrameDecoder::Status::need_more);
}

TEST(FrameDecoder, ByteAtATimeEqualsWhole) {
  std::mt19937 rng(1);
  auto [stream, frames] = random_stream(rng, 300, 3000);
  auto whole = decode(stream, {stream.size()});
  auto bytes = decode(stream, {1});
  EXPECT_FALSE(whole.failed);
  EXPECT_EQ(whole.frames, frames);
  EXPECT_EQ(bytes.frames, frames);
  EXPECT_FALSE(bytes.failed);
}

TEST(FrameDecoder, RandomSplitsEqualWhole) {
  std::mt19937 rng(20240601);
  for (int round = 0; round < 500; ++round) {
    auto [stream, frames] = random_stream(rng, 1 + static_cast<int>(rng() % 40), 600);
    std::vector<std::size_t> chunks;
    for (int i = 0; i < 16; ++i) chunks.push_back(1 + rng() % (rng() % 2 ? 9 : 700));
    bool zero_copy = round % 2 == 1;
    auto got = decode(stream, chunks, 1000, zero_copy);
    ASSERT_FALSE(got.failed) << got.error;
    ASSERT_EQ(got.frames, frames) << "round " << round;
    EXPECT_EQ(got.buffered, 0u);
  }
}

TEST(FrameDecoder, ManyFramesInOneFeed) {
  std::string stream;
  for (int i = 0; i < 10000; ++i) stream += frame(0x14, std::to_string(i));
  auto got = decode(stream, {stream.size()});
  EXPECT_FALSE(got.failed);
  ASSERT_EQ(got.frames.size(), 10000u);
  EXPECT_EQ(got.frames.front(), (std::pair<int, std::string>{0x14, "0"}));
  EXPECT_EQ(got.frames.back(), (std::pair<int, std::string>{0x14, "9999"}));
}

TEST(FrameDecoder, PartialFrameStaysBuffered) {
  std::string stream = frame(0x14, "one") + frame(0x14, "two");
  auto got = decode(stream.substr(0, stream.size() - 1), {3});
  EXPECT_EQ(got.frames, (Frames{{0x14, "one"}}));
  EXPECT_FALSE(got.failed);
  EXPECT_EQ(got.buffered, kFrameHeaderSize + 2);  // the peer was cut off mid-frame
}

TEST(FrameDecoder, ExactlyMaxPayloadIsAccepted) {
  for (std::size_t max : {std::size_t{0}, std::size_t{1}, std::size_t{100}, kDefaultMaxPayload}) {
    std::string payload(max, 'p');
    auto got = decode(frame(0x14, payload) + frame(0x11, ""), {4096}, max);
    EXPECT_FALSE(got.failed) << max << ": " << got.error;
    ASSERT_EQ(got.frames.size(), 2u) << max;
    EXPECT_EQ(got.frames[0].second.size(), max);
  }
}

TEST(FrameDecoder, OverMaxPayloadIsRejectedFromTheHeaderAlone) {
  FrameDecoder decoder(100);
  Frame frame;
  decoder.feed(std::string_view("\x14\0\0\0", 4));
  EXPECT_EQ(decoder.next(frame), FrameDecoder::Status::need_more);
  decoder.feed(std::string_view("\x65", 1));  // 101: no payload byte sent yet
  EXPECT_EQ(decoder.next(frame), FrameDecoder::Status::error);
  EXPECT_EQ(decoder.error_code(), ErrorCode::too_large);
  EXPECT_EQ(decoder.error(), "frame of 101 bytes is over the 100-byte limit");
}

TEST(FrameDecoder, DefaultLimitMessage) {
  FrameDecoder decoder;
  auto header = sockit::codec::frame_header(0x14, 2000000);
  decoder.feed(std::string_view(header.data(), header.size()));
  Frame frame;
  EXPECT_EQ(decoder.next(frame), FrameDecoder::Status::error);
  EXPECT_EQ(decoder.error_code(), ErrorCode::too_large);
  EXPECT_EQ(decoder.error(), "frame of 2000000 bytes is over the 1048576-byte limit");
  // A 4 GiB announcement allocates nothing either.
  FrameDecoder huge;
  huge.feed(std::string_view("\x14\xff\xff\xff\xff", 5));
  EXPECT_EQ(huge.next(frame), FrameDecoder::Status::error);
  EXPECT_EQ(huge.error(), "frame of 4294967295 bytes is over the 1048576-byte limit");
}

TEST(FrameDecoder, BadTypesAreMalformed) {
  for (int type : {0x00, 0x80, 0x81, 0xc3, 0xff}) {
    FrameDecoder decoder;
    Frame frame;
    // Judged from the type byte alone: a peer typing at nc is not kept waiting.
    decoder.feed(std::string(1, static_cast<char>(type)));
    EXPECT_EQ(decoder.next(frame), FrameDecoder::Status::error) << type;
    EXPECT_EQ(decoder.error_code(), ErrorCode::malformed);
    char want[64];
    std::snprintf(want, sizeof want, "frame type 0x%02x is not valid", type);
    EXPECT_EQ(decoder.error(), want);
  }
  EXPECT_EQ(decode(frame(0x7f, "") + frame(0x01, ""), {1}).frames.size(), 2u);
}

TEST(FrameDecoder, BadTypeAfterGoodFrames) {
  std::string stream = frame(0x14, "ok") + frame(0x15, "") + "\xef\xbb\xbfhello\n";
  auto got = decode(stream, {stream.size()});
  EXPECT_EQ(got.frames, (Frames{{0x14, "ok"}, {0x15, ""}}));
  EXPECT_TRUE(got.failed);
  EXPECT_EQ(got.code, ErrorCode::malformed);
  EXPECT_EQ(got.error, "frame type 0xef is not valid");
}

TEST(FrameDecoder, ErrorIsSticky) {
  FrameDecoder decoder(10);
  Frame frame;
  decoder.feed(std::string_view("\x14\0\0\0\x0b", 5));
  ASSERT_EQ(decoder.next(frame), FrameDecoder::Status::error);
  std::string first = decoder.error();
  // Valid frames after a bad header are never returned: no boundary is left.
  std::string good = ::frame(0x14, "fine");
  decoder.feed(good);
  auto space = decoder.prepare(good.size());
  std::memcpy(space.data(), good.data(), good.size());
  decoder.commit(good.size());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(decoder.next(frame), FrameDecoder::Status::error);
  EXPECT_EQ(decoder.error(), first);
  EXPECT_EQ(decoder.error_code(), ErrorCode::too_large);
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(FrameDecoder, PrepareGivesAtLeastWhatIsAsked) {
  FrameDecoder decoder;
  for (std::size_t min : {1u, 16u, 5000u, 16384u, 100000u}) EXPECT_GE(decoder.prepare(min).size(), min);
  EXPECT_GE(decoder.prepare().size(), 16u * 1024);
}

TEST(FrameDecoder, PrepareCommitRoundTrip) {
  std::mt19937 rng(7);
  auto [stream, frames] = random_stream(rng, 200, 5000);
  FrameDecoder decoder;
  Decoded out;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    // Like a socket read: as much as fits in the span, at most what is there.
    auto space = decoder.prepare(1 + rng() % 64);
    std::size_t n = std::min({space.size(), stream.size() - pos, std::size_t{1} + rng() % 3000});
    std::memcpy(space.data(), stream.data() + pos, n);
    decoder.commit(n);
    pos += n;
    drain(decoder, out);
  }
  EXPECT_FALSE(out.failed);
  EXPECT_EQ(out.frames, frames);
}

TEST(FrameDecoder, FrameViewSurvivesNext) {
  // The payload view is valid until the next prepare()/feed(), so several
  // frames from one read can be held at once.
  FrameDecoder decoder;
  decoder.feed(frame(0x14, "first") + frame(0x15, "second"));
  Frame a, b;
  ASSERT_EQ(decoder.next(a), FrameDecoder::Status::frame);
  ASSERT_EQ(decoder.next(b), FrameDecoder::Status::frame);
  EXPECT_EQ(a.text(), "first");
  EXPECT_EQ(b.text(), "second");
}

TEST(FrameDecoder, BufferStaysBounded) {
  // A 1 KiB limit: however the bytes come, the buffer never holds more than
  // one incomplete frame plus one read, so prepare() never offers more than
  // that (the growth cap) once every frame is drained.
  constexpr std::size_t max = 1024;
  std::mt19937 rng(3);
  auto [stream, frames] = random_stream(rng, 500, max);
  FrameDecoder decoder(max);
  Decoded out;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    std::size_t want = 1 + rng() % 200;
    auto space = decoder.prepare(want);
    ASSERT_LE(space.size(), max + kFrameHeaderSize + 200) << pos;
    std::size_t n = std::min(want, stream.size() - pos);
    std::memcpy(space.data(), stream.data() + pos, n);
    decoder.commit(n);
    pos += n;
    drain(decoder, out);
    ASSERT_LT(decoder.buffered(), max + kFrameHeaderSize);
  }
  EXPECT_EQ(out.frames, frames);
}

TEST(FrameDecoder, NoReallocationOnceBigEnough) {
  // Steady state: the same storage is reused, frame after frame. Each round
  // writes a few frames in two reads split at a random point; once they are
  // drained, prepare() hands out the start of the buffer again.
  std::mt19937 rng(11);
  FrameDecoder decoder;
  Decoded out;
  std::vector<const char*> starts;
  std::size_t sent = 0;
  for (int round = 0; round < 300; ++round) {
    std::string group;
    for (int i = 0, n = 1 + static_cast<int>(rng() % 3); i < n; ++i, ++sent)
      group += frame(0x14, std::string(rng() % 2000, 'x'));
    std::size_t split = rng() % (group.size() + 1);
    for (auto part : {std::string_view(group).substr(0, split), std::string_view(group).substr(split)}) {
      auto space = decoder.prepare();
      ASSERT_GE(space.size(), part.size());
      std::memcpy(space.data(), part.data(), part.size());
      decoder.commit(part.size());
      drain(decoder, out);
    }
    ASSERT_EQ(decoder.buffered(), 0u);
    if (round >= 20) starts.push_back(decoder.prepare().data());
  }
  EXPECT_EQ(out.frames.size(), sent);
  EXPECT_TRUE(std::all_of(starts.begin(), starts.end(), [&](const char* p) { return p == starts[0]; }));
}

TEST(FrameDecoder, MaxPayloadByteAtATimeIsLinear) {
  // Each byte of an incomplete frame is moved at most once: a peer dribbling
  // a 1 MiB frame byte by byte costs a million small steps, not 10^12.
  std::string stream = frame(0x11, "") + frame(0x14, std::string(kDefaultMaxPayload, 'z')) + frame(0x11, "");
  auto got = decode(stream, {1});
  EXPECT_FALSE(got.failed);
  ASSERT_EQ(got.frames.size(), 3u);
  EXPECT_EQ(got.frames[1].second.size(), kDefaultMaxPayload);
  EXPECT_EQ(got.frames[1].second.find_first_not_of('z'), std::string::npos);
}

TEST(FrameError, CodeNames) {
  EXPECT_STREQ(sockit::codec::error_code_name(ErrorCode::malformed), "malformed");
  EXPECT_STREQ(sockit::codec::error_code_name(ErrorCode::too_large), "too_large");
  EXPECT_STREQ(sockit::codec::error_code_name(ErrorCode::auth_failed), "auth_failed");
  EXPECT_STREQ(sockit::codec::error_code_name(ErrorCode::internal), "internal");
  EXPECT_STREQ(sockit::codec::error_code_name(static_cast<ErrorCode>(0)), "unknown");
  EXPECT_STREQ(sockit::codec::error_code_name(static_cast<ErrorCode>(11)), "unknown");
}

TEST(FrameHello, RoundTrip) {
  using sockit::codec::Hello;
  auto payload = sockit::codec::hello_payload(Hello{1, "exec"});
  EXPECT_EQ(payload, std::string("SOCKIT\x01"
                                 "exec"));
  for (Hello hello : {Hello{1, "exec"}, Hello{0, "x"}, Hello{255, "send"}, Hello{7, "a b~"}}) {
    auto parsed = sockit::codec::parse_hello(sockit::codec::hello_payload(hello));
    ASSERT_TRUE(parsed) << hello.service;
    EXPECT_EQ(parsed->version, hello.version);
    EXPECT_EQ(parsed->service, hello.service);
  }
}

TEST(FrameHello, MalformedIsRejected) {
  using sockit::codec::parse_hello;
  EXPECT_FALSE(parse_hello(""));
  EXPECT_FALSE(parse_hello("SOCKIT"));      // no version
  EXPECT_FALSE(parse_hello("SOCKIT\x01"));  // no service
  EXPECT_FALSE(
      parse_hello("SOCKET\x01"
                  "exec"));  // wrong magic
  EXPECT_FALSE(
      parse_hello("sockit\x01"
                  "exec"));  // magic is case-sensitive
  EXPECT_FALSE(
      parse_hello("\x01"
                  "exec"));  // what a careless client might send
  EXPECT_FALSE(
      parse_hello(std::string("SOCKIT\x01"
                              "ex\0c",
                              11)));  // NUL
  EXPECT_FALSE(
      parse_hello("SOCKIT\x01"
                  "exec\n"));  // control character
  EXPECT_FALSE(
      parse_hello("SOCKIT\x01"
                  "\x7f"));  // DEL
  EXPECT_FALSE(
      parse_hello("SOCKIT\x01"
                  "ex\xc3\xa9"
                  "c"));  // not ASCII
  EXPECT_TRUE(
      parse_hello("SOCKIT\x01"
                  "exec"));
}

TEST(FrameErrorPayload, RoundTrip) {
  auto payload = sockit::codec::error_payload(ErrorCode::auth_failed, "bad token");
  EXPECT_EQ(payload, std::string("\0\x06"
                                 "bad token",
                                 11));
  for (auto code : {ErrorCode::malformed, ErrorCode::internal, static_cast<ErrorCode>(0x1234)}) {
    for (std::string_view text : {"", "frame type 0x00 is not valid", "caf\xc3\xa9"}) {
      auto parsed = sockit::codec::parse_error(sockit::codec::error_payload(code, text));
      ASSERT_TRUE(parsed);
      EXPECT_EQ(parsed->code, code);
      EXPECT_EQ(parsed->text, text);
    }
  }
}

TEST(FrameErrorPayload, MalformedIsRejected) {
  EXPECT_FALSE(sockit::codec::parse_error(""));
  EXPECT_FALSE(sockit::codec::parse_error("\x00"));
  auto unknown = sockit::codec::parse_error(std::string_view("\xff\xfe", 2));
  ASSERT_TRUE(unknown);  // a newer peer's code is kept, not rejected
  EXPECT_EQ(static_cast<int>(unknown->code), 0xfffe);
  EXPECT_STREQ(sockit::codec::error_code_name(unknown->code), "unknown");
}

// missing(): what a reader may read to end a large frame and no further.
TEST(FrameDecoder, MissingCountsTheRestOfTheBufferedFrame) {
  FrameDecoder decoder;
  EXPECT_EQ(decoder.missing(), 0u);  // no header yet
  std::string stream;
  append_frame(stream, 0x24, std::string(100000, 'x'));
  decoder.feed(std::string_view(stream).substr(0, 3));
  EXPECT_EQ(decoder.missing(), 0u);  // a partial header says nothing
  decoder.feed(std::string_view(stream).substr(3, 1000));
  EXPECT_EQ(decoder.missing(), stream.size() - 1003);
  decoder.feed(std::string_view(stream).substr(1003));
  EXPECT_EQ(decoder.missing(), 0u);
  // A header over the limit is for next() to refuse, not to size a read.
  FrameDecoder small(16);
  small.feed(std::string_view(stream).substr(0, kFrameHeaderSize));
  EXPECT_EQ(small.missing(), 0u);
}

// swap_buffer(): the returned frame stays valid in the buffer handed over,
// and decoding goes on with the bytes that were not returned yet.
TEST(FrameDecoder, SwapBufferKeepsTheFrameAndTheRest) {
  std::string stream;
  append_frame(stream, 0x24, std::string(70000, 'a'));
  append_frame(stream, 0x25, "next");
  FrameDecoder decoder;
  decoder.feed(std::string_view(stream).substr(0, stream.size() - 2));
  Frame frame;
  ASSERT_EQ(decoder.next(frame), FrameDecoder::Status::frame);
  std::vector<char> other;
  decoder.swap_buffer(other);
  EXPECT_EQ(frame.text(), std::string(70000, 'a'));  // lives in `other` now
  EXPECT_GE(other.size(), 70000u);
  EXPECT_EQ(decoder.buffered(), kFrameHeaderSize + 2);
  decoder.feed(std::string_view(stream).substr(stream.size() - 2));
  ASSERT_EQ(decoder.next(frame), FrameDecoder::Status::frame);
  EXPECT_EQ(frame.type, 0x25);
  EXPECT_EQ(frame.text(), "next");
}
