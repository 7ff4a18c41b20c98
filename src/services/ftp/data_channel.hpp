// The data connection of one FTP session: a passive listener (PASV/EPSV)
// or an active target (PORT/EPRT), opened for one transfer and then closed.
//
// Security: a passive listener takes a random port of the configured range
// and accepts only a connection from the control peer's address (others are
// closed and logged), within a short timeout; an active target must be the
// control peer's own address and a port >= 1024 (no FTP bounce), checked
// when PORT/EPRT arrives.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace sockit::ftp {

using TcpSocket = boost::asio::ip::tcp::socket;

class DataChannel {
 public:
  explicit DataChannel(const boost::asio::any_io_executor& executor) : executor_(executor) {}

  // Binds a listener on `local` with a random free port in [min, max].
  // Returns the port, or nothing (with `why`) when none is free.
  std::optional<std::uint16_t> listen_passive(const boost::asio::ip::address& local, std::uint16_t min,
                                              std::uint16_t max, std::string& why);
  void set_active(const boost::asio::ip::tcp::endpoint& target);
  bool ready() const { return acceptor_ != nullptr || active_.has_value(); }
  bool passive() const { return acceptor_ != nullptr; }
  // Forgets the listener or target (after each transfer, and on a new PASV/PORT).
  void reset();

  // The connection for one transfer: accepted from `peer` (passive) or made
  // to the target from `local` (active), within `timeout`. Nothing, with a
  // reason in `why`, on timeout or failure.
  boost::asio::awaitable<std::optional<TcpSocket>> open(boost::asio::ip::address peer,
                                                        boost::asio::ip::address local,
                                                        std::chrono::milliseconds timeout, std::string& why,
                                                        std::string log_prefix);

 private:
  boost::asio::any_io_executor executor_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::optional<boost::asio::ip::tcp::endpoint> active_;
};

// An IPv4-mapped IPv6 address as IPv4; any other as it is.
boost::asio::ip::address unmapped(const boost::asio::ip::address& a);
// The same address, an IPv4-mapped IPv6 address counting as its IPv4 form.
bool same_host(const boost::asio::ip::address& a, const boost::asio::ip::address& b);

}  // namespace sockit::ftp
