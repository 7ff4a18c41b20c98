// StallWatchdog: ends a connection on which no byte has moved, either way,
// for the stall timeout (a peer gone silent without closing, a cable pulled).
// run() alongside the session with `&&`; stop() when the session is done.
#pragma once

#include "services/framing/frame_connection.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace sockit::transfer {

class StallWatchdog {
 public:
  StallWatchdog(services::FrameConnection& connection, std::chrono::milliseconds limit)
      : connection_(connection), limit_(limit), timer_(connection.stream().socket().get_executor()) {}

  boost::asio::awaitable<void> run() {
    auto last_moved = std::chrono::steady_clock::now();
    auto last_total = total();
    auto tick = std::min<std::chrono::milliseconds>(limit_, std::chrono::seconds(1));
    while (!stopped_) {
      timer_.expires_after(tick);
      co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (stopped_) break;
      auto now = std::chrono::steady_clock::now();
      if (total() != last_total) {
        last_total = total();
        last_moved = now;
      } else if (now - last_moved >= limit_) {
        stalled_ = true;
        connection_.stream().close();  // the session's pending reads and writes fail
        break;
      }
    }
  }
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }
  bool stalled() const { return stalled_; }

 private:
  std::uint64_t total() const { return connection_.bytes_read() + connection_.bytes_written(); }
  services::FrameConnection& connection_;
  std::chrono::milliseconds limit_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
  bool stalled_ = false;
};

// Runs `work` watched by a StallWatchdog. A TransferFailure passes through;
// any other exception (an operation failing on the connection) becomes one
// saying what happened ("stalled: nothing moved for 60 s", "connection lost:
// ..."), followed by `context()` (what the user can do about it).
boost::asio::awaitable<void> run_watched(services::FrameConnection& connection,
                                         std::chrono::milliseconds limit, boost::asio::awaitable<void> work,
                                         const std::function<std::string()>& context);

}  // namespace sockit::transfer
