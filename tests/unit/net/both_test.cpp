#include "net/both.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

namespace asio = boost::asio;
using asio::awaitable;
using namespace std::chrono_literals;

namespace {

awaitable<void> fail_after(std::chrono::milliseconds delay, std::string what) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);  // throws operation_aborted when cancelled
  throw std::runtime_error(what);
}

awaitable<void> finish_after(std::chrono::milliseconds delay, bool& finished) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
  finished = true;
}

// The message of whatever `op` throws, or "" when it finishes.
std::string run(awaitable<void> op) {
  asio::io_context context;
  std::string message;
  asio::co_spawn(context, std::move(op), [&](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      message = e.what();
    }
  });
  context.run();
  return message;
}

}  // namespace

TEST(Both, WaitsForBoth) {
  bool a = false, b = false;
  EXPECT_EQ(run(sockit::net::both(finish_after(1ms, a), finish_after(5ms, b))), "");
  EXPECT_TRUE(a && b);
}

// Asio's own `&&` says "multiple exceptions" here: the first failure
// cancels the other branch, which then fails too.
TEST(Both, TheFirstFailureIsRethrownAsItself) {
  EXPECT_EQ(run(sockit::net::both(fail_after(50ms, "left"), fail_after(1ms, "right, which failed first"))),
            "right, which failed first");
  EXPECT_EQ(run(sockit::net::both(fail_after(1ms, "disk full"), fail_after(10s, "never"))), "disk full");
  EXPECT_EQ(run(sockit::net::both(fail_after(10s, "never"), fail_after(1ms, "peer refused"))),
            "peer refused");
}

TEST(Both, AFailureAfterTheOtherFinished) {
  bool a = false;
  EXPECT_EQ(run(sockit::net::both(finish_after(1ms, a), fail_after(5ms, "late"))), "late");
  EXPECT_TRUE(a);
}
