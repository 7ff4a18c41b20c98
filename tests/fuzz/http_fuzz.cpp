// Everything `sockit get` parses from a server or a user: the response
// (head, chunked and length-delimited bodies, fed in pieces), gzip/deflate
// bodies, Location and Content-Range values, Content-Disposition names and
// URLs, FTP replies and ftp:// URLs. The first byte picks the parser.
#include "codec/ftp/client_reply.hpp"
#include "codec/ftp/ftp_url.hpp"
#include "codec/http/content_decoder.hpp"
#include "codec/http/request.hpp"
#include "codec/http/response_parser.hpp"
#include "codec/http/response_rules.hpp"
#include "codec/http/url.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace sockit::codec::http;

namespace {

void response(std::string_view input, bool head) {
  ResponseParser parser(4096, head);
  std::uint64_t seen = 0;
  parser.on_body([&](std::string_view piece) { seen += piece.size(); });
  std::string error;
  // Pieces of varying size, as reads would deliver them.
  std::size_t step = 1;
  while (!input.empty() && error.empty() && !parser.done()) {
    auto piece = input.substr(0, step);
    std::size_t used = parser.feed(piece, error);
    if (used > piece.size()) std::abort();
    input.remove_prefix(piece.size());
    step = step * 3 % 61 + 1;
  }
  if (error.empty() && !parser.done()) parser.feed_eof(error);
  if (seen != parser.body_bytes()) std::abort();
}

void content(std::string_view input) {
  std::string error;
  auto decoder = ContentDecoder::for_encoding(input.size() % 2 ? "gzip" : "deflate", error);
  std::uint64_t out = 0;
  if (decoder && decoder->decode(
                     input, [&](std::string_view d) { out += d.size(); }, error))
    decoder->finish(error);
}

void values(std::string_view input) {
  std::string error;
  Url base;
  base.scheme = "http";
  base.host = "example.com";
  base.port = 80;
  base.target = "/a/b";
  if (auto url = resolve_location(base, input, error)) {
    if (url->target.empty() || url->target.front() != '/') std::abort();
    file_name_from_url(*url);
    (void)url->text();
  }
  if (auto url = parse_url(input, error)) file_name_from_url(*url);
  // sockit ftp's URLs: nothing that would end an FTP command line gets through.
  if (auto ftp = sockit::codec::ftp::parse_ftp_url(input, error)) {
    for (const auto* part : {&ftp->user, &ftp->password, &ftp->path, &ftp->host})
      if (part->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) std::abort();
    if (ftp->host.empty() || ftp->port == 0) std::abort();
  }
  auto name = file_name_from_disposition(input);
  if (name.find('/') != std::string::npos || name == "." || name == "..") std::abort();
  if (auto range = parse_content_range(input)) {
    if (range->first > range->last || (range->total && range->last >= *range->total)) std::abort();
  }
  parse_unsatisfied_range(input);
  if (auto header = parse_header_option(input, error)) {
    Request request;
    request.target = "/";
    request.host = "h";
    request.headers.push_back(*header);
    auto bytes = serialize(request);
    // One header in, one header line out: no CR or LF smuggled.
    if (bytes.find("\r\n\r\n") != bytes.size() - 4) std::abort();
  }
}

// An FTP server's replies (sockit get ftp://), fed in pieces.
void ftp_replies(std::string_view input) {
  sockit::codec::ftp::FtpReplyReader reader;
  std::string error;
  for (std::size_t at = 0; at < input.size() && error.empty(); at += 5) {
    reader.feed(input.substr(at, 5));
    while (auto reply = reader.next(error))
      if (reply->code < 100 || reply->code > 599) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      response(input, false);
      break;
    case 1:
      response(input, true);
      break;
    case 2:
      content(input);
      break;
    case 4:
      ftp_replies(input);
      break;
    default:
      values(input);
  }
  return 0;
}
