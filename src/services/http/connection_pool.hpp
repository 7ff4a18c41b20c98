// ConnectionPool: kept-alive connections by origin, so several URLs on one
// host (or the parts of --split, or a redirect to the same server) reuse a
// connection instead of paying for a new TCP and TLS handshake each.
#pragma once

#include "services/http/http_connection.hpp"

#include <map>
#include <memory>
#include <string>

namespace sockit::http {

class ConnectionPool {
 public:
  explicit ConnectionPool(const ConnectContext& context) : context_(context) {}

  // An idle connection to `url`'s origin, or a new one. Throws FetchError.
  boost::asio::awaitable<std::unique_ptr<HttpConnection>> take(const codec::http::Url& url);
  // Keeps it for the next request if it is still in step with its server.
  void give_back(std::unique_ptr<HttpConnection> connection);

 private:
  static constexpr std::size_t kIdlePerOrigin = 8;
  const ConnectContext& context_;
  std::multimap<std::string, std::unique_ptr<HttpConnection>> idle_;
};

}  // namespace sockit::http
