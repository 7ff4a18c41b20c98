#include "services/http/http_connection.hpp"

#include "net/connector.hpp"
#include "net/within.hpp"
#include "services/http/proxy.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace sockit::http {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;
using codec::http::Url;

namespace {

constexpr std::size_t kReadSize = 256 * 1024;

using Clock = std::chrono::steady_clock;

// A step that ran out of time: the stall timeout, or the whole run's.
// `limit` is what the step was given: less than `stall` when the deadline
// was nearer.
FetchError out_of_time(const std::string& origin, const char* what, std::chrono::milliseconds stall,
                       std::chrono::milliseconds limit) {
  if (limit < stall) return FetchError("the transfer took longer than --max-time", kTimedOut);
  return FetchError(fmt::format("{}: {} for {:g} s (--stall-timeout)", origin, what, stall.count() / 1000.0),
                    kTimedOut, true);
}

FetchError connect_error(const net::ConnectError& e) {
  using Reason = net::ConnectError::Reason;
  switch (e.reason) {
    case Reason::resolve:
      return FetchError(e.what(), kCannotResolve, true);
    case Reason::timeout:
      return FetchError(e.what(), kTimedOut, true);
    default:
      return FetchError(e.what(), kCannotConnect, true);
  }
}

FetchError tls_error(const Url& url, const error_code& ec) {
  std::string what = ec.message();
  if (what.find("certificate") != std::string::npos)
    return FetchError(url.scheme + "://" + url.authority() +
                          ": the server's certificate cannot be trusted (" + what +
                          "); --cacert FILE trusts another CA, -k checks nothing",
                      kCertificate);
  return FetchError(url.scheme + "://" + url.authority() + ": TLS handshake failed: " + what, kTlsHandshake,
                    true);
}

}  // namespace

std::chrono::milliseconds ConnectContext::bounded(std::chrono::milliseconds limit) const {
  if (deadline == Clock::time_point::max()) return limit;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) throw FetchError("the transfer took longer than --max-time", kTimedOut);
  return std::min(limit, left);
}

net::TlsContext& ConnectContext::tls() const {
  if (!tls_) tls_ = net::make_web_client_tls(options.cacert, options.insecure);
  return *tls_;
}

std::string HttpConnection::origin_of(const Url& url) {
  return url.scheme + "://" + url.authority();
}

HttpConnection::HttpConnection(net::Stream stream, const ConnectContext& context, std::string origin,
                               bool absolute_targets)
    : stream_(std::move(stream)),
      context_(context),
      origin_(std::move(origin)),
      absolute_targets_(absolute_targets),
      buffer_(kReadSize) {}

awaitable<std::unique_ptr<HttpConnection>> HttpConnection::open(const Url& url,
                                                                const ConnectContext& context) {
  const auto& options = context.options;
  if (url.scheme != "http" && url.scheme != "https")
    throw FetchError("sockit get does not speak " + url.scheme + ":// (http://, https://)",
                     kUnsupportedProtocol);
  auto proxy = proxy_for(url, options);
  net::Endpoint endpoint;
  if (!options.unix_socket.empty()) {
    endpoint.transport = net::Transport::unix_stream;
    endpoint.path = options.unix_socket;
  } else {
    endpoint.host = proxy ? proxy->host : url.host;
    endpoint.port = proxy ? proxy->port : url.port;
  }
  std::optional<net::StreamSocket> socket;
  try {
    socket.emplace(co_await net::connect_stream(endpoint, context.bounded(options.connect_timeout)));
  } catch (const net::ConnectError& e) {
    throw connect_error(e);
  }
  bool tunnel = proxy && url.scheme == "https";
  std::unique_ptr<HttpConnection> connection(
      new HttpConnection(net::Stream(std::move(*socket)), context, origin_of(url), proxy && !tunnel));
  if (tunnel) {
    // CONNECT: the proxy joins us to the origin; TLS then runs end to end.
    std::string target = url.authority().find(':') == std::string::npos && url.port == 443
                             ? url.authority() + ":443"
                             : url.authority();
    co_await connection->send("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n");
    codec::http::ResponseParser parser(options.header_limit, true);
    co_await connection->receive(parser, {});
    if (parser.head().status / 100 != 2)
      throw FetchError("the proxy " + proxy->authority() + " refused the tunnel to " + target + ": " +
                           std::to_string(parser.head().status) + " " + parser.head().reason,
                       kReceiveError);
    connection->requests_ = 0;
  }
  if (url.scheme == "https") {
    auto plain = std::move(connection->stream_.socket());
    connection->stream_ = net::Stream(std::move(plain), context.tls());
    error_code ec;
    auto handshake = [&]() -> awaitable<bool> {
      co_await connection->stream_.handshake_client(url.host, ec);
      co_return true;
    };
    auto limit = context.bounded(options.connect_timeout);
    auto finished = co_await net::within(limit, handshake());
    if (!finished)
      throw out_of_time(origin_of(url), "no answer to the TLS handshake", options.connect_timeout, limit);
    if (ec) throw tls_error(url, ec);
  }
  co_return connection;
}

awaitable<void> HttpConnection::within_stall(awaitable<bool> step, const char* what) {
  auto limit = context_.bounded(context_.options.stall_timeout);
  auto done = co_await net::within(limit, std::move(step));
  if (!done) {
    reusable_ = false;
    throw out_of_time(origin_, what, context_.options.stall_timeout, limit);
  }
}

awaitable<void> HttpConnection::send(std::string request) {
  ++requests_;
  std::span<const char> piece(request.data(), request.size());
  error_code ec;
  auto write = [&]() -> awaitable<bool> {
    co_await stream_.write(std::span(&piece, 1), ec);
    co_return true;
  };
  co_await within_stall(write(), "the server took nothing");
  if (ec) {
    reusable_ = false;
    throw FetchError(origin_ + ": connection lost while sending: " + ec.message(), kReceiveError, true);
  }
}

awaitable<std::size_t> HttpConnection::read_some() {
  error_code ec;
  std::size_t n = 0;
  auto read = [&]() -> awaitable<bool> {
    n = co_await stream_.read_some(buffer_, ec);
    co_return true;
  };
  co_await within_stall(read(), "nothing arrived");
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) co_return 0;
  if (ec) {
    reusable_ = false;
    throw FetchError(origin_ + ": connection lost: " + ec.message(), kReceiveError, true);
  }
  co_return n;
}

// Feeds `bytes` to the parser; what is left after a complete response is
// kept for the next one (a final response right behind a 100 Continue).
void HttpConnection::consume(codec::http::ResponseParser& parser, std::string_view bytes) {
  std::string error;
  std::size_t used = parser.feed(bytes, error);
  if (!error.empty()) {
    reusable_ = false;
    throw FetchError(origin_ + ": " + error, kReceiveError);
  }
  if (used < bytes.size()) leftover_.append(bytes.substr(used));
}

awaitable<void> HttpConnection::receive(codec::http::ResponseParser& parser,
                                        const std::function<void(std::string_view)>& tap) {
  if (!leftover_.empty()) {
    std::string carried = std::move(leftover_);
    leftover_.clear();
    consume(parser, carried);
  }
  while (!parser.done()) {
    std::size_t n = co_await read_some();
    if (n == 0) {
      reusable_ = false;
      std::string error;
      parser.feed_eof(error);
      if (!error.empty())
        throw FetchError(origin_ + ": " + error, parser.head_done() ? kPartialFile : kReceiveError, true);
      break;
    }
    std::string_view bytes(buffer_.data(), n);
    if (tap) tap(bytes);
    consume(parser, bytes);
  }
  // Bytes after a final response are out of step: no other request here.
  if (parser.head().status >= 200 && (!leftover_.empty() || !parser.head().keep_alive)) reusable_ = false;
}

}  // namespace sockit::http
