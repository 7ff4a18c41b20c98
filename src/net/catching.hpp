// catching(op, failure): runs an awaitable and stores its exception in
// `failure` instead of throwing it. For a branch of `a || b`: Asio's `||`
// waits for the first branch to *succeed*, so a branch that throws would
// leave the race waiting on the other one (a timer, a writer, stdin) forever.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <exception>
#include <optional>

namespace sockit::net {

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

inline boost::asio::awaitable<void> catching(boost::asio::awaitable<void> op, std::exception_ptr& failure) {
  try {
    co_await std::move(op);
  } catch (...) {
    failure = std::current_exception();
  }
}

}  // namespace sockit::net
