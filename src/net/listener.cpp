#include "net/listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace sockit::net {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

std::string explain_bind_error(const Endpoint& endpoint, const error_code& ec) {
  std::string where = endpoint.to_string();
  if (ec == asio::error::address_in_use)
    return where +
           ": address already in use (another program listens there; stop it or pick "
           "another port, or port 0 for any)";
  if (ec == asio::error::access_denied)
    return where + ": permission denied (ports below 1024 need root; pick a higher port)";
  if (ec.value() == EADDRNOTAVAIL)
    return where + ": address not available on this machine (use 127.0.0.1, ::1 or 0.0.0.0)";
  return where + ": " + ec.message();
}

// Resolves host to the first address getaddrinfo gives (numeric hosts never
// touch DNS).
asio::ip::address resolve_host(asio::io_context& context, const Endpoint& endpoint) {
  error_code ec;
  auto address = asio::ip::make_address(endpoint.host, ec);
  if (!ec) return address;
  asio::ip::tcp::resolver resolver(context);
  auto results = resolver.resolve(endpoint.host, "", ec);
  if (ec || results.empty())
    throw StartupError(endpoint.to_string() + ": cannot resolve host '" + endpoint.host + "' (" +
                       (ec ? ec.message() : "no address") + ")");
  return results.begin()->endpoint().address();
}

bool exhausted_resources(const error_code& ec) {
  int v = ec.value();
  return v == EMFILE || v == ENFILE || v == ENOBUFS || v == ENOMEM;
}

// A socket file left by a process that died: nobody accepts on it.
void remove_stale_unix_socket(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return;
  if (!S_ISSOCK(info.st_mode))
    throw StartupError("unix:" + path +
                       ": a file that is not a socket is in the way; remove it "
                       "or choose another path");
  asio::io_context probe_context;
  asio::local::stream_protocol::socket probe(probe_context);
  error_code ec;
  probe.connect(asio::local::stream_protocol::endpoint(path), ec);
  if (!ec) throw StartupError("unix:" + path + ": another server is listening on this socket");
  ::unlink(path.c_str());
}

using Reuseport = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// Tells a refused client why, then closes without a reset: shut down our
// side, drain what it sent (closing with unread input would send RST and
// could destroy the explanation), give up after a second.
asio::awaitable<void> drain_until_eof(StreamSocket& socket) {
  char sink[512];
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
  }
}

asio::awaitable<void> refuse(StreamSocket socket, std::string message) {
  using namespace asio::experimental::awaitable_operators;
  error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(asio::buffer(message), ec);
  socket.shutdown(asio::socket_base::shutdown_send, ec);
  asio::steady_timer timer(socket.get_executor(), std::chrono::seconds(1));
  co_await (drain_until_eof(socket) || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
}

}  // namespace

void spawn_logged(const asio::any_io_executor& executor, asio::awaitable<void> task, std::string what) {
  asio::co_spawn(executor, std::move(task), [what = std::move(what)](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      spdlog::error("{} event=crash error=\"{}\"", what, e.what());
    }
  });
}

StreamListener::StreamListener(Engine& engine, Endpoint bound, ListenOptions options)
    : engine_(engine), bound_(std::move(bound)), options_(std::move(options)) {}

StreamListener::~StreamListener() {
  if (created_unix_socket_) ::unlink(bound_.path.c_str());
}

std::shared_ptr<StreamListener> StreamListener::bind(Engine& engine, const Endpoint& endpoint,
                                                     ListenOptions options) {
  std::shared_ptr<StreamListener> listener(new StreamListener(engine, endpoint, options));
  error_code ec;
  auto open_acceptor = [&](asio::io_context& context, const StreamEndpoint& at,
                           bool reuse_port) -> std::shared_ptr<Acceptor> {
    auto acceptor = std::make_shared<Acceptor>(context);
    acceptor->open(at.protocol(), ec);
    if (!ec && at.protocol().family() != AF_UNIX) {
      acceptor->set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec && reuse_port) acceptor->set_option(Reuseport(true), ec);
    }
    if (!ec) acceptor->bind(at, ec);
    if (!ec) acceptor->listen(options.backlog, ec);
    if (ec) throw StartupError(explain_bind_error(endpoint, ec));
    return acceptor;
  };

  if (endpoint.transport == Transport::unix_stream) {
    remove_stale_unix_socket(endpoint.path);
    asio::local::stream_protocol::endpoint local(endpoint.path);
    StreamEndpoint at(local.data(), local.size());
    listener->acceptors_.push_back(open_acceptor(engine.context(0), at, false));
    listener->acceptor_loops_.push_back(0);
    listener->created_unix_socket_ = true;
    return listener;
  }

  auto address = resolve_host(engine.context(0), endpoint);
  asio::ip::tcp::endpoint tcp_at(address, endpoint.port);
  if (engine.size() > 1) {
    // SO_REUSEPORT would let us join a port another server already holds
    // with SO_REUSEPORT (a second sockit, say) and silently share its
    // traffic. A plain bind first proves the port free (and picks it for
    // port 0); the per-loop acceptors then take it over.
    asio::ip::tcp::acceptor probe(engine.context(0));
    probe.open(tcp_at.protocol(), ec);
    if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) probe.bind(tcp_at, ec);
    if (ec) throw StartupError(explain_bind_error(endpoint, ec));
    tcp_at.port(probe.local_endpoint().port());
  }
  for (unsigned i = 0; i < engine.size(); ++i) {
    StreamEndpoint at(tcp_at.data(), tcp_at.size(), IPPROTO_TCP);
    listener->acceptors_.push_back(open_acceptor(engine.context(i), at, engine.size() > 1));
    listener->acceptor_loops_.push_back(i);
    if (i == 0) {
      auto local = listener->acceptors_[0]->local_endpoint();
      asio::ip::tcp::endpoint actual;
      std::memcpy(actual.data(), local.data(), local.size());
      tcp_at.port(actual.port());
    }
  }
  listener->bound_.host = address.to_string();
  listener->bound_.port = tcp_at.port();
  return listener;
}

void StreamListener::start(SessionHandler handler, std::shared_ptr<ConnectionLimiter> limiter) {
  auto state = std::make_shared<const State>(State{
      engine_, options_, bound_.transport == Transport::unix_stream, std::move(handler), std::move(limiter)});
  for (std::size_t i = 0; i < acceptors_.size(); ++i) {
    auto& own_context = engine_.context(acceptor_loops_[i]);
    started_.push_back(acceptors_[i]);
    spawn_logged(own_context.get_executor(), accept_loop(std::move(acceptors_[i]), own_context, state),
                 "service=" + options_.log_name);
  }
  acceptors_.clear();
}

void StreamListener::stop() {
  for (auto& weak : started_) {
    auto acceptor = weak.lock();
    if (!acceptor) continue;
    asio::post(acceptor->get_executor(), [weak] {
      if (auto a = weak.lock()) {
        error_code ignored;
        a->close(ignored);
      }
    });
  }
}

asio::awaitable<void> StreamListener::accept_loop(std::shared_ptr<Acceptor> acceptor,
                                                  asio::io_context& own_context,
                                                  std::shared_ptr<const State> state) {
  const auto& name = state->options.log_name;
  bool warned = false;
  for (;;) {
    auto& target = state->hand_off ? state->engine.next_context() : own_context;
    auto [ec, socket] = co_await acceptor->async_accept(target, asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
    if (ec) {
      if (exhausted_resources(ec)) {
        // Out of descriptors or memory: back off instead of spinning, and let
        // the sessions that end free some. Never fatal.
        if (!warned) spdlog::warn("service={} event=accept_backoff error=\"{}\"", name, ec.message());
        warned = true;
        asio::steady_timer pause(own_context, std::chrono::milliseconds(100));
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      continue;
    }
    warned = false;
    error_code peer_ec;
    auto peer_endpoint = socket.remote_endpoint(peer_ec);
    if (peer_ec) continue;  // gone already
    std::string peer = describe_peer(peer_endpoint);
    StreamSocket session_socket(std::move(socket));
    auto ticket = state->limiter->try_admit(peer_ip(peer_endpoint));
    if (!ticket) {
      spdlog::info("peer={} service={} event=refused reason=connection_limit", peer, name);
      if (state->options.refused) state->options.refused->fetch_add(1, std::memory_order_relaxed);
      auto executor = session_socket.get_executor();
      spawn_logged(executor, refuse(std::move(session_socket), state->options.refusal), "service=" + name);
      continue;
    }
    if (!state->hand_off) session_socket.set_option(asio::ip::tcp::no_delay(true), peer_ec);
    auto executor = session_socket.get_executor();
    spawn_logged(executor,
                 state->handler(Session{std::move(session_socket), std::move(*ticket), std::move(peer)}),
                 "service=" + name);
  }
}

UdpSocket bind_udp(Engine& engine, const Endpoint& endpoint, Endpoint& bound) {
  auto address = resolve_host(engine.context(0), endpoint);
  asio::ip::udp::endpoint at(address, endpoint.port);
  UdpSocket socket(engine.context(0));
  error_code ec;
  // No SO_REUSEADDR: on UDP it would let a second server bind the same port
  // and steal datagrams, and UDP has no TIME_WAIT to work around.
  socket.open(at.protocol(), ec);
  if (!ec) socket.bind(at, ec);
  if (ec) throw StartupError(explain_bind_error(endpoint, ec));
  bound = endpoint;
  bound.host = address.to_string();
  bound.port = socket.local_endpoint().port();
  return socket;
}

}  // namespace sockit::net
