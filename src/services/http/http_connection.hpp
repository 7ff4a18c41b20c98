// HttpConnection: one connection to an origin (plain, TLS, through an HTTP
// proxy or over a Unix socket) that carries one request after another while
// the server keeps it alive. Requests go out as bytes; responses come back
// through a codec::http::ResponseParser.
#pragma once

#include "codec/http/response_parser.hpp"
#include "codec/http/url.hpp"
#include "net/stream.hpp"
#include "services/http/fetch_types.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sockit::http {

// What every connection of one `sockit get` run shares.
struct ConnectContext {
  const NetworkOptions& options;
  std::chrono::steady_clock::time_point deadline;  // --max-time, or max()
  // The TLS context, made at the first https URL: setting OpenSSL up costs
  // a run of small http downloads more than the downloads themselves.
  net::TlsContext& tls() const;
  // `limit` for one step, cut short by the deadline. Throws FetchError
  // (kTimedOut) once the deadline has passed.
  std::chrono::milliseconds bounded(std::chrono::milliseconds limit) const;
  mutable std::shared_ptr<net::TlsContext> tls_;
};

class HttpConnection {
 public:
  // Connects to `url`'s origin and makes TLS for https. Throws FetchError.
  static boost::asio::awaitable<std::unique_ptr<HttpConnection>> open(const codec::http::Url& url,
                                                                      const ConnectContext& context);

  // scheme://host:port: which requests this connection can carry.
  const std::string& origin() const { return origin_; }
  // Plain http through a proxy: requests name the whole URL.
  bool absolute_targets() const { return absolute_targets_; }
  // The last response left it open and in step.
  bool reusable() const { return reusable_; }
  // It carried a request before (a failure on it may be the server having
  // closed an idle connection: worth one more try on a new one).
  bool reused() const { return requests_ > 1; }

  // Sends a request's bytes. Throws FetchError (transient).
  boost::asio::awaitable<void> send(std::string request);
  // Reads until `parser` has the whole response. Every byte read also goes
  // to `tap` if set (--raw). Throws FetchError.
  boost::asio::awaitable<void> receive(codec::http::ResponseParser& parser,
                                       const std::function<void(std::string_view)>& tap);

  static std::string origin_of(const codec::http::Url& url);

 private:
  HttpConnection(net::Stream stream, const ConnectContext& context, std::string origin,
                 bool absolute_targets);
  // One read, within the stall timeout and the deadline.
  boost::asio::awaitable<std::size_t> read_some();
  // `step` within the stall timeout (and the deadline), or FetchError.
  boost::asio::awaitable<void> within_stall(boost::asio::awaitable<bool> step, const char* what);
  void consume(codec::http::ResponseParser& parser, std::string_view bytes);

  net::Stream stream_;
  const ConnectContext& context_;
  std::string origin_;
  bool absolute_targets_;
  bool reusable_ = true;
  unsigned requests_ = 0;
  std::vector<char> buffer_;
  std::string leftover_;  // read, but past the response it was read for
};

}  // namespace sockit::http
