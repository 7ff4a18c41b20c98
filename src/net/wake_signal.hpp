// WakeSignal: a condition variable for coroutines of one loop. wait()
// suspends until notify(); a woken waiter checks its condition again (as with
// any condition variable). Made of a timer that never expires, which
// cancel() wakes: every waiter at once, no lost state, no lock.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sockit::net {

class WakeSignal {
 public:
  explicit WakeSignal(const boost::asio::any_io_executor& executor) : timer_(executor) {
    timer_.expires_at(boost::asio::steady_timer::time_point::max());
  }
  boost::asio::awaitable<void> wait() {
    co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  void notify() { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace sockit::net
