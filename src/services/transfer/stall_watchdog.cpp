#include "services/transfer/stall_watchdog.hpp"

#include "services/transfer/transfer_session.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

namespace sockit::transfer {
using namespace boost::asio::experimental::awaitable_operators;

namespace {

boost::asio::awaitable<void> then_stop(boost::asio::awaitable<void> work, StallWatchdog& watchdog) {
  co_await std::move(work);
  watchdog.stop();
}

}  // namespace

boost::asio::awaitable<void> run_watched(services::FrameConnection& connection, std::chrono::milliseconds limit,
                                         boost::asio::awaitable<void> work,
                                         const std::function<std::string()>& context) {
  StallWatchdog watchdog(connection, limit);
  try {
    // `&&` waits for both and cancels the other when one fails: a failure
    // in the work ends the watchdog, and the work's end stops it.
    co_await (then_stop(std::move(work), watchdog) && watchdog.run());
  } catch (const TransferFailure&) {
    throw;
  } catch (const std::exception& e) {
    if (watchdog.stalled())
      throw TransferFailure("the transfer stalled: nothing moved for " + std::to_string(limit.count() / 1000) +
                            " s" + context());
    throw TransferFailure(std::string("connection lost: ") + e.what() + context());
  }
}

}  // namespace sockit::transfer
