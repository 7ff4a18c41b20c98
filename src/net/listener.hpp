// Listeners bind an Endpoint and hand each accepted connection to a session
// coroutine on one of the engine's loops.
//
// TCP: one acceptor per loop, all bound to the same port with SO_REUSEPORT,
// so the kernel spreads connections and no loop hands work to another.
// Unix: one acceptor whose connections are dealt round robin to the loops.
// Both set SO_REUSEADDR, so a restart never fails on TIME_WAIT.
#pragma once

#include "net/connection_limiter.hpp"
#include "net/endpoint.hpp"
#include "net/engine.hpp"
#include "net/socket_types.hpp"
#include "net/startup_error.hpp"

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sockit::net {

struct ListenOptions {
  int backlog = 1024;
  // Written to a connection refused by the limiter, then it is closed.
  std::string refusal = "error: server busy, too many connections; try again later\n";
  std::string log_name;                           // e.g. "echo.main", for log lines
  std::atomic<std::uint64_t>* refused = nullptr;  // counted here when set
};

struct Session {
  StreamSocket socket;
  ConnectionLimiter::Ticket ticket;
  std::string peer;  // describe_peer()
};

using SessionHandler = std::function<boost::asio::awaitable<void>(Session)>;

class StreamListener : public std::enable_shared_from_this<StreamListener> {
 public:
  // Binds now (throws StartupError with a one-line message on failure).
  static std::shared_ptr<StreamListener> bind(Engine& engine, const Endpoint& endpoint,
                                              ListenOptions options);
  ~StreamListener();

  // What was actually bound (port 0 resolved).
  const Endpoint& bound() const { return bound_; }

  // Starts the accept loops. `handler` runs on the socket's loop.
  void start(SessionHandler handler, std::shared_ptr<ConnectionLimiter> limiter);
  // Stops accepting; live sessions go on. Thread-safe, idempotent.
  void stop();

 private:
  using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::generic::stream_protocol>;
  StreamListener(Engine& engine, Endpoint bound, ListenOptions options);
  // Everything the accept loops share; holds no I/O object, so it may die
  // on any loop.
  struct State {
    Engine& engine;
    ListenOptions options;
    bool hand_off;  // unix: deal connections to every loop
    SessionHandler handler;
    std::shared_ptr<ConnectionLimiter> limiter;
  };
  static boost::asio::awaitable<void> accept_loop(std::shared_ptr<Acceptor> acceptor,
                                                  boost::asio::io_context& own_context,
                                                  std::shared_ptr<const State> state);

  Engine& engine_;
  Endpoint bound_;
  ListenOptions options_;
  // Until start(), the listener owns the acceptors; then each accept loop
  // owns its own, so an acceptor is destroyed with its loop, never after it.
  std::vector<std::shared_ptr<Acceptor>> acceptors_;
  std::vector<unsigned> acceptor_loops_;
  std::vector<std::weak_ptr<Acceptor>> started_;
  bool created_unix_socket_ = false;
};

// Binds a UDP socket on the engine's first loop (throws StartupError).
UdpSocket bind_udp(Engine& engine, const Endpoint& endpoint, Endpoint& bound);

// Spawns a top-level coroutine whose exceptions are logged, not swallowed
// (co_spawn(..., detached) would hide a failure).
void spawn_logged(const boost::asio::any_io_executor& executor, boost::asio::awaitable<void> task,
                  std::string what);

}  // namespace sockit::net
