#include "services/http/connection_pool.hpp"

namespace sockit::http {

boost::asio::awaitable<std::unique_ptr<HttpConnection>> ConnectionPool::take(const codec::http::Url& url) {
  auto at = idle_.find(HttpConnection::origin_of(url));
  if (at != idle_.end()) {
    auto connection = std::move(at->second);
    idle_.erase(at);
    co_return connection;
  }
  co_return co_await HttpConnection::open(url, context_);
}

void ConnectionPool::give_back(std::unique_ptr<HttpConnection> connection) {
  if (!connection || !connection->reusable()) return;
  if (idle_.count(connection->origin()) >= kIdlePerOrigin) return;
  auto origin = connection->origin();
  idle_.emplace(std::move(origin), std::move(connection));
}

}  // namespace sockit::http
