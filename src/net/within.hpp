// within(limit, op): waits for an awaitable at most `limit`; nothing if the
// time ran out first (the operation is cancelled). The operation's exception
// is rethrown (caught first: see catching.hpp).
#pragma once

#include "net/catching.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <optional>

namespace sockit::net {

template <typename Result>
boost::asio::awaitable<std::optional<Result>> within(std::chrono::milliseconds limit,
                                                     boost::asio::awaitable<Result> op) {
  using namespace boost::asio::experimental::awaitable_operators;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, limit);
  std::exception_ptr failure;
  auto which = co_await (catching(std::move(op), failure) ||
                         timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)));
  if (which.index() == 1) co_return std::nullopt;  // (a failure then is the cancellation)
  if (failure) std::rethrow_exception(failure);
  co_return std::get<0>(std::move(which));
}

}  // namespace sockit::net
