#include "codec/http/response_parser.hpp"

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cctype>
#include <limits>

namespace sockit::codec::http {
namespace beast = boost::beast;
using beast::error_code;

namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

class Parser final : public beast::http::basic_parser<false> {
 public:
  ResponseHead head;
  ResponseParser::BodySink sink;
  std::uint64_t body_bytes = 0;

 private:
  void on_request_impl(beast::http::verb, beast::string_view, beast::string_view, int,
                       error_code& ec) override {
    ec = beast::http::error::bad_method;  // never called for a response parser
  }
  void on_response_impl(int code, beast::string_view reason, int version, error_code&) override {
    head.status = code;
    head.reason = std::string(reason);
    head.version = version;
  }
  void on_field_impl(beast::http::field, beast::string_view name, beast::string_view value,
                     error_code&) override {
    head.fields.emplace_back(std::string(name), std::string(value));
  }
  void on_header_impl(error_code&) override {
    head.chunked = chunked();
    head.keep_alive = keep_alive();
    if (auto length = content_length()) head.content_length = *length;
  }
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(beast::string_view body, error_code&) override {
    deliver(body);
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code&) override {
    deliver(body);
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  void deliver(beast::string_view body) {
    body_bytes += body.size();
    if (sink && !body.empty()) sink(std::string_view(body.data(), body.size()));
  }
};

}  // namespace

std::optional<std::string> ResponseHead::field(std::string_view name) const {
  for (const auto& [key, value] : fields)
    if (equal_ignoring_case(key, name)) return value;
  return std::nullopt;
}

struct ResponseParser::Impl {
  Parser parser;
  std::string pending;  // a head or chunk header so far: Beast needs it in one piece
  std::size_t limit = 0;
};

ResponseParser::ResponseParser(std::uint32_t header_limit, bool head_request)
    : impl_(std::make_unique<Impl>()) {
  impl_->parser.header_limit(header_limit);
  impl_->limit = header_limit + 1;
  impl_->parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  impl_->parser.skip(head_request);
  impl_->parser.eager(true);
}

ResponseParser::~ResponseParser() = default;

void ResponseParser::on_body(BodySink sink) {
  impl_->parser.sink = std::move(sink);
}

std::size_t ResponseParser::feed(std::string_view bytes, std::string& error) {
  auto& parser = impl_->parser;
  auto& pending = impl_->pending;
  if (parser.is_done()) return 0;
  // Beast consumes a head, or a chunk header, only once it is whole: what
  // it left is presented again with the bytes that follow.
  std::size_t carried = pending.size();
  std::string_view input = bytes;
  if (carried) {
    pending.append(bytes);
    input = pending;
  }
  std::size_t used_total = 0;
  while (used_total < input.size() && !parser.is_done()) {
    error_code ec;
    std::size_t used =
        parser.put(boost::asio::buffer(input.data() + used_total, input.size() - used_total), ec);
    used_total += used;
    if (ec == beast::http::error::need_more) {
      if (used == 0) break;
      continue;
    }
    if (ec) {
      error = ec == beast::http::error::header_limit ? "the response head is larger than the limit"
              : parser.is_header_done()              ? "a malformed response body: " + ec.message()
                                                     : "a malformed response: " + ec.message();
      return 0;
    }
  }
  if (!parser.is_done()) {
    std::string rest(input.substr(used_total));
    if (rest.size() > impl_->limit) {
      error = parser.is_header_done() ? "a malformed response body: a chunk header too long"
                                      : "the response head is larger than the limit";
      return 0;
    }
    pending = std::move(rest);
    return bytes.size();
  }
  pending.clear();
  return used_total > carried ? used_total - carried : 0;
}

void ResponseParser::feed_eof(std::string& error) {
  auto& parser = impl_->parser;
  if (parser.is_done()) return;
  if (!parser.is_header_done()) {
    error = impl_->pending.empty() && parser.head.status == 0
                ? "the server closed the connection without a response"
                : "the server closed the connection in the middle of the response head";
    return;
  }
  error_code ec;
  parser.put_eof(ec);
  if (ec) {
    const auto& head = parser.head;
    error = head.content_length
                ? "the server closed the connection after " + std::to_string(parser.body_bytes) + " of " +
                      std::to_string(*head.content_length) + " bytes"
                : "the server closed the connection before the end of the body";
  }
}

bool ResponseParser::head_done() const {
  return impl_->parser.is_header_done();
}
bool ResponseParser::done() const {
  return impl_->parser.is_done();
}
const ResponseHead& ResponseParser::head() const {
  return impl_->parser.head;
}
std::uint64_t ResponseParser::body_bytes() const {
  return impl_->parser.body_bytes;
}

}  // namespace sockit::codec::http
