// within(limit, op): waits for an awaitable at most `limit`; nothing if the
// time ran out first (the operation is cancelled).
#pragma once

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

namespace detail {
// `||` of awaitables waits for the first branch to *succeed*: an `op` that
// threw would be waited out until the timer. So its exception is caught here
// and rethrown by within().
template <typename Result>
boost::asio::awaitable<std::optional<Result>> catching(boost::asio::awaitable<Result> op,
                                                       std::exception_ptr& failure) {
  try {
    co_return co_await std::move(op);
  } catch (...) {
    failure = std::current_exception();
  }
  co_return std::nullopt;
}
}  // namespace detail

template <typename Result>
boost::asio::awaitable<std::optional<Result>> within(std::chrono::milliseconds limit,
                                                     boost::asio::awaitable<Result> op) {
  using namespace boost::asio::experimental::awaitable_operators;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, limit);
  std::exception_ptr failure;
  auto which = co_await (detail::catching(std::move(op), failure) ||
                         timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)));
  if (which.index() == 1) co_return std::nullopt;  // (a failure then is the cancellation)
  if (failure) std::rethrow_exception(failure);
  co_return std::get<0>(std::move(which));
}

}  // namespace sockit::net
