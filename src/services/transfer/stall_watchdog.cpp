#include "services/transfer/stall_watchdog.hpp"

#include "services/transfer/transfer_session.hpp"

#include "net/both.hpp"

namespace sockit::transfer {

namespace {

boost::asio::awaitable<void> then_stop(boost::asio::awaitable<void> work, StallWatchdog& watchdog) {
  co_await std::move(work);
  watchdog.stop();
}

}  // namespace

boost::asio::awaitable<void> run_watched(services::FrameConnection& connection,
                                         std::chrono::milliseconds limit, boost::asio::awaitable<void> work,
                                         const std::function<std::string()>& context) {
  StallWatchdog watchdog(connection, limit);
  try {
    // Both must finish; a failure in the work ends the watchdog, and the
    // work's end stops it.
    co_await net::both(then_stop(std::move(work), watchdog), watchdog.run());
  } catch (const std::exception& e) {
    // The watchdog closing the connection fails the work in whatever way
    // it was using it then: the stall is the reason.
    if (watchdog.stalled())
      throw TransferFailure("the transfer stalled: nothing moved for " +
                            std::to_string(limit.count() / 1000) + " s" + context());
    if (dynamic_cast<const TransferFailure*>(&e)) throw;
    throw TransferFailure(std::string("connection lost: ") + e.what() + context());
  }
}

}  // namespace sockit::transfer
