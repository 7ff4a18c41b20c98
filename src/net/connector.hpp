// Client side of the socket layer: connect a stream socket to an Endpoint
// (TCP after name resolution, trying each address; or a Unix socket).
#pragma once

#include "net/endpoint.hpp"
#include "net/socket_types.hpp"

#include <chrono>
#include <stdexcept>

namespace sockit::net {

// A connection that could not be made, with a one-line reason for humans:
// "tcp://127.0.0.1:7: connection refused (is the server running?)".
struct ConnectError : std::runtime_error {
  // What went wrong, for callers that map failures to exit codes (curl's).
  enum class Reason { other, resolve, refused, timeout };
  explicit ConnectError(const std::string& what, Reason why = Reason::other)
      : std::runtime_error(what), reason(why) {}
  Reason reason;
};

// Throws ConnectError. TCP sockets get TCP_NODELAY.
boost::asio::awaitable<StreamSocket> connect_stream(const Endpoint& endpoint,
                                                    std::chrono::milliseconds limit);

}  // namespace sockit::net
