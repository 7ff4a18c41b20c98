#include "net/both.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>

namespace sockit::net {
namespace asio = boost::asio;

boost::asio::awaitable<void> both(asio::awaitable<void> a, asio::awaitable<void> b) {
  auto executor = co_await asio::this_coro::executor;
  auto group =
      asio::experimental::make_parallel_group(asio::co_spawn(executor, std::move(a), asio::deferred),
                                              asio::co_spawn(executor, std::move(b), asio::deferred));
  auto [order, a_error, b_error] =
      co_await group.async_wait(asio::experimental::wait_for_one_error(), asio::deferred);
  // The branch that ended first failed for a reason; the other, if it
  // failed, was most likely only cancelled because of it.
  auto first = order[0] == 0 ? a_error : b_error;
  auto second = order[0] == 0 ? b_error : a_error;
  if (first) std::rethrow_exception(first);
  if (second) std::rethrow_exception(second);
}

}  // namespace sockit::net
