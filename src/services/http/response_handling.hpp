// One request's exchange and what its response is for: decided on the
// response head (a redirect to follow, an error status, a range that
// continues a part, a body to decode) before any of the body is taken.
#pragma once

#include "codec/http/content_decoder.hpp"
#include "codec/http/response_parser.hpp"
#include "codec/http/url.hpp"
#include "services/http/fetcher.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace sockit::http {

struct Exchange {
  codec::http::Url url;
  codec::http::Url first_url;  // credentials go to its origin only
  std::string method;
  std::optional<std::string> body;
  Output* output = nullptr;
  // Range asked for: from range_first (0 and no last: all of it) to
  // range_last inclusive. A --split part has a last and writes at its
  // offsets; a resume has only a first and appends.
  std::uint64_t range_first = 0;
  std::optional<std::uint64_t> range_last;
  std::string if_range;
  bool follow = true;
  // What came back.
  int status = 0;
  std::optional<codec::http::Url> redirect;
  std::optional<std::uint64_t> total_size;  // of the whole resource, when the server said
  std::string validator;                    // ETag (strong) or Last-Modified
  bool accepts_ranges = false;
  std::uint64_t written = 0;  // of a --split part, across tries
};

class ResponseHandling {
 public:
  ResponseHandling(Exchange& exchange, const RequestOptions& request, const Display& display,
                   std::uint32_t header_limit)
      : exchange_(exchange), request_(request), display_(display), header_limit_(header_limit) {}

  // Reads the response (past any 1xx) into the exchange's output. Throws
  // FetchError: kHttpError for an error status, after its body.
  boost::asio::awaitable<void> receive(HttpConnection& connection);
  // Some of a response arrived (so a failure is not a stale connection).
  bool started() const { return started_; }

 private:
  enum class Mode { discard, append, positional };
  void decide(const codec::http::ResponseHead& head);
  void decide_range(const codec::http::ResponseHead& head);
  void take(std::string_view piece);
  void store(std::string_view piece);
  void finish(const codec::http::ResponseHead& head);

  Exchange& exchange_;
  const RequestOptions& request_;
  const Display& display_;
  std::uint32_t header_limit_;
  std::optional<codec::http::ResponseParser> parser_;
  std::unique_ptr<codec::http::ContentDecoder> decoder_;
  Mode mode_ = Mode::discard;
  bool decided_ = false;
  bool started_ = false;
  std::uint64_t position_ = 0;  // positional: where the next byte goes
  std::optional<FetchError> error_status_;
};

// "HTTP/1.1 200 OK\r\nName: value\r\n...\r\n\r\n", as received (for -i, -I).
std::string head_text(const codec::http::ResponseHead& head);
// The head of a message (up to the blank line), each line after the first
// prefixed (for -v).
std::string head_lines(std::string_view message, std::string_view prefix);

}  // namespace sockit::http
