#include "codec/http/content_decoder.hpp"
#include "codec/http/response_parser.hpp"

#include <gtest/gtest.h>

#include <zlib.h>

using namespace sockit::codec::http;

namespace {

// Feeds `bytes` in pieces of `step` (1 = every byte alone); the body seen.
std::string parse(ResponseParser& parser, std::string_view bytes, std::size_t step, std::string& error) {
  std::string body;
  parser.on_body([&](std::string_view piece) { body += piece; });
  for (std::size_t at = 0; at < bytes.size() && error.empty() && !parser.done(); at += step)
    parser.feed(bytes.substr(at, step), error);
  return body;
}

std::string compress(std::string_view data, int window_bits) {
  z_stream stream{};
  deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(compressBound(static_cast<uLong>(data.size())) + 64, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::string decode(std::string_view encoding, std::string_view data, std::string& error) {
  auto decoder = ContentDecoder::for_encoding(encoding, error);
  std::string out;
  if (!decoder) return out;
  for (std::size_t at = 0; at < data.size(); at += 7)
    if (!decoder->decode(
            data.substr(at, 7), [&](std::string_view d) { out += d; }, error))
      return out;
  decoder->finish(error);
  return out;
}

}  // namespace

TEST(HttpResponse, ContentLengthInAnyPieces) {
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nETag: \"v1\"\r\n\r\nhello world";
  for (std::size_t step : {1, 3, 17, 1000}) {
    ResponseParser parser(8192, false);
    std::string error;
    EXPECT_EQ(parse(parser, response, step, error), "hello world") << step;
    EXPECT_EQ(error, "");
    EXPECT_TRUE(parser.done());
    EXPECT_EQ(parser.head().status, 200);
    EXPECT_EQ(parser.head().content_length, 11u);
    EXPECT_TRUE(parser.head().keep_alive);
    EXPECT_EQ(parser.head().field("etag"), "\"v1\"");
  }
}

TEST(HttpResponse, ChunkedSplitAtEveryByte) {
  const std::string response =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: "
      "x\r\n\r\n";
  for (std::size_t step : {1, 2, 5, 1000}) {
    ResponseParser parser(8192, false);
    std::string error;
    EXPECT_EQ(parse(parser, response, step, error), "hello world") << step;
    EXPECT_EQ(error, "") << step;
    EXPECT_TRUE(parser.done()) << step;
    EXPECT_TRUE(parser.head().chunked);
  }
}

TEST(HttpResponse, BodyUntilCloseAndTruncation) {
  ResponseParser until_close(8192, false);
  std::string error;
  EXPECT_EQ(parse(until_close, "HTTP/1.0 200 OK\r\n\r\nall of it", 4, error), "all of it");
  EXPECT_FALSE(until_close.done());
  until_close.feed_eof(error);
  EXPECT_EQ(error, "");
  EXPECT_TRUE(until_close.done());
  EXPECT_FALSE(until_close.head().keep_alive);

  ResponseParser truncated(8192, false);
  parse(truncated, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", 1000, error);
  truncated.feed_eof(error);
  EXPECT_NE(error.find("after 5 of 100 bytes"), std::string::npos) << error;
}

TEST(HttpResponse, HeadHasNoBodyWhateverItsLength) {
  ResponseParser parser(8192, true);
  std::string error;
  parse(parser, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", 1000, error);
  EXPECT_EQ(error, "");
  EXPECT_TRUE(parser.done());
}

TEST(HttpResponse, ExtraBytesAreNotTaken) {
  ResponseParser parser(8192, false);
  std::string error;
  parser.on_body([](std::string_view) {});
  std::string bytes = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  auto used = parser.feed(bytes, error);
  EXPECT_TRUE(parser.done());
  EXPECT_EQ(parser.head().status, 100);
  EXPECT_EQ(used, std::string("HTTP/1.1 100 Continue\r\n\r\n").size());
}

TEST(HttpResponse, LimitsAndGarbage) {
  ResponseParser big(1024, false);
  std::string error;
  std::string head = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 100; ++i)
    head += "X-Filler-" + std::to_string(i) + ": " + std::string(40, 'x') + "\r\n";
  parse(big, head + "\r\n", 10, error);
  EXPECT_NE(error.find("larger than the limit"), std::string::npos) << error;

  ResponseParser garbage(8192, false);
  error.clear();
  parse(garbage, "SSH-2.0-OpenSSH_9.2\r\n\r\n", 1000, error);
  EXPECT_NE(error.find("malformed"), std::string::npos) << error;

  ResponseParser bad_chunk(8192, false);
  error.clear();
  parse(bad_chunk, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 1000, error);
  EXPECT_NE(error.find("malformed"), std::string::npos) << error;
}

TEST(HttpContent, GzipZlibAndRawDeflate) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "line " + std::to_string(i) + "\n";
  std::string error;
  EXPECT_EQ(decode("gzip", compress(text, 31), error), text);
  EXPECT_EQ(error, "");
  EXPECT_EQ(decode("deflate", compress(text, 15), error), text);
  EXPECT_EQ(error, "");
  EXPECT_EQ(decode("deflate", compress(text, -15), error), text) << "deflate without the zlib wrapper";
  EXPECT_EQ(error, "");
  EXPECT_EQ(decode(" GZIP ", compress("", 31), error), "");
  EXPECT_EQ(error, "");
}

TEST(HttpContent, CorruptTruncatedAndUnknown) {
  std::string error;
  auto gz = compress(std::string(100000, 'a'), 31);
  decode("gzip", gz.substr(0, gz.size() / 2), error);
  EXPECT_NE(error.find("ended before"), std::string::npos) << error;
  error.clear();
  gz[gz.size() / 2] ^= 0x55;
  decode("gzip", gz, error);
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(ContentDecoder::for_encoding("br", error));
  EXPECT_NE(error.find("'br'"), std::string::npos);
  error.clear();
  EXPECT_FALSE(ContentDecoder::for_encoding("identity", error));
  EXPECT_EQ(error, "");
}
