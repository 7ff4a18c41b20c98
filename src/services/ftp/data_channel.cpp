#include "services/ftp/data_channel.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <random>

namespace sockit::ftp {
namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using boost::system::error_code;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr int kPortTries = 100;

}  // namespace

asio::ip::address unmapped(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}

bool same_host(const asio::ip::address& a, const asio::ip::address& b) {
  return unmapped(a) == unmapped(b);
}

std::optional<std::uint16_t> DataChannel::listen_passive(const asio::ip::address& local, std::uint16_t min,
                                                         std::uint16_t max, std::string& why) {
  reset();
  thread_local std::mt19937 random{std::random_device{}()};
  std::uniform_int_distribution<unsigned> pick(min, max);
  unsigned span = static_cast<unsigned>(max - min) + 1;
  for (int attempt = 0; attempt < kPortTries; ++attempt) {
    // Random ports first (a client cannot guess the next one), then every
    // port in turn when the range is small and busy.
    unsigned port = attempt < kPortTries / 2 ? pick(random) : min + (pick(random) + attempt) % span;
    auto acceptor = std::make_unique<tcp::acceptor>(executor_);
    error_code ec;
    tcp::endpoint endpoint(local, static_cast<std::uint16_t>(port));
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    // A backlog of 1: one transfer, one connection.
    if (!ec) acceptor->listen(1, ec);
    if (!ec) {
      acceptor_ = std::move(acceptor);
      return static_cast<std::uint16_t>(port);
    }
    if (ec != asio::error::address_in_use && ec != asio::error::access_denied) {
      why = ec.message();
      return std::nullopt;
    }
  }
  why = "no free passive port";
  return std::nullopt;
}

void DataChannel::set_active(const tcp::endpoint& target) {
  reset();
  active_ = target;
}

void DataChannel::reset() {
  if (acceptor_) {
    error_code ignored;
    acceptor_->close(ignored);
    acceptor_.reset();
  }
  active_.reset();
}

awaitable<std::optional<TcpSocket>> DataChannel::open(asio::ip::address peer, asio::ip::address local,
                                                      std::chrono::milliseconds timeout, std::string& why,
                                                      std::string log_prefix) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(executor_, timeout);
  if (acceptor_) {
    auto acceptor = std::move(acceptor_);
    for (;;) {
      auto which = co_await (acceptor->async_accept(use_tuple) || timer.async_wait(use_tuple));
      if (which.index() == 1) {
        why = "no data connection within the timeout";
        co_return std::nullopt;
      }
      auto [ec, socket] = std::move(std::get<0>(which));
      if (ec) {
        why = ec.message();
        co_return std::nullopt;
      }
      error_code remote_ec;
      auto remote = socket.remote_endpoint(remote_ec);
      if (!remote_ec && same_host(remote.address(), peer)) co_return std::move(socket);
      // Someone else raced for the port (a passive-port theft): refuse them
      // and keep waiting for the real client.
      spdlog::warn("{} event=data_refused from={} reason=\"not the control connection's address\"",
                   log_prefix, remote_ec ? "?" : remote.address().to_string());
      socket.close(remote_ec);
    }
  }
  if (!active_) {
    why = "use PASV, EPSV, PORT or EPRT first";
    co_return std::nullopt;
  }
  auto target = *active_;
  active_.reset();
  TcpSocket socket(executor_);
  error_code ec;
  socket.open(target.protocol(), ec);
  if (!ec) socket.bind(tcp::endpoint(local, 0), ec);
  if (ec) {
    why = ec.message();
    co_return std::nullopt;
  }
  auto which = co_await (socket.async_connect(target, use_tuple) || timer.async_wait(use_tuple));
  if (which.index() == 1) {
    why = "could not connect to your data port within the timeout";
    co_return std::nullopt;
  }
  auto [connect_ec] = std::get<0>(which);
  if (connect_ec) {
    why = "could not connect to your data port: " + connect_ec.message();
    co_return std::nullopt;
  }
  co_return std::move(socket);
}

}  // namespace sockit::ftp
