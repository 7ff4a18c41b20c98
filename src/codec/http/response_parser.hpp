// ResponseParser: an HTTP/1.1 response read from bytes as they arrive
// (Beast's parser underneath: Content-Length, chunked, bodies delimited by
// the close), the body handed on piece by piece so a download of any size
// takes bounded memory. Sans-I/O: bytes in, a head and body pieces out.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sockit::codec::http {

struct ResponseHead {
  int status = 0;
  int version = 11;  // 10 or 11
  std::string reason;
  std::vector<std::pair<std::string, std::string>> fields;  // as received, in order
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  bool keep_alive = false;  // the connection may carry another request

  // The first field of that name (case-insensitive).
  std::optional<std::string> field(std::string_view name) const;
};

class ResponseParser {
 public:
  using BodySink = std::function<void(std::string_view piece)>;

  // `header_limit`: bytes of status line and fields together. A response
  // to HEAD has no body whatever its Content-Length says.
  ResponseParser(std::uint32_t header_limit, bool head_request);
  ~ResponseParser();
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  void on_body(BodySink sink);

  // Takes bytes from the connection; how many belong to this response
  // (fewer than given only once done()). On a malformed or oversized
  // response, `error` says what and the rest is not read.
  std::size_t feed(std::string_view bytes, std::string& error);
  // The peer closed: ends a body delimited by the close, or is an error
  // ("closed after 1200 of 5000 bytes") if the response was not complete.
  void feed_eof(std::string& error);

  bool head_done() const;
  bool done() const;
  const ResponseHead& head() const;
  std::uint64_t body_bytes() const;  // handed to the sink so far

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sockit::codec::http
