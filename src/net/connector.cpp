#include "net/connector.hpp"

#include "net/within.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

namespace sockit::net {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

ConnectError connect_failure(const Endpoint& endpoint, const error_code& ec) {
  using Reason = ConnectError::Reason;
  if (ec == asio::error::connection_refused)
    return ConnectError(endpoint.to_string() + ": connection refused (is the server running?)",
                        Reason::refused);
  if (ec == asio::error::timed_out || ec == asio::error::operation_aborted)
    return ConnectError(endpoint.to_string() + ": no answer (timed out connecting)", Reason::timeout);
  return ConnectError(endpoint.to_string() + ": " + ec.message());
}

}  // namespace

awaitable<StreamSocket> connect_stream(const Endpoint& endpoint, std::chrono::milliseconds limit) {
  auto executor = co_await asio::this_coro::executor;
  StreamSocket socket(executor);
  error_code ec = asio::error::timed_out;
  if (endpoint.transport == Transport::unix_stream) {
    asio::local::stream_protocol::endpoint local(endpoint.path);
    socket.open(asio::generic::stream_protocol(AF_UNIX, 0));
    socket.connect(local, ec);
    if (ec) throw connect_failure(endpoint, ec);
    co_return socket;
  }
  asio::ip::tcp::resolver resolver(executor);
  auto [resolve_ec, results] =
      co_await resolver.async_resolve(endpoint.host, std::to_string(endpoint.port), use_tuple);
  if (resolve_ec)
    throw ConnectError("cannot resolve host '" + endpoint.host + "': " + resolve_ec.message(),
                       ConnectError::Reason::resolve);
  for (const auto& entry : results) {
    asio::ip::tcp::socket tcp(executor);
    auto attempt = [](asio::ip::tcp::socket& s, asio::ip::tcp::endpoint at) -> awaitable<error_code> {
      auto [e] = co_await s.async_connect(at, use_tuple);
      co_return e;
    };
    auto result = co_await within<error_code>(limit, attempt(tcp, entry.endpoint()));
    ec = result ? *result : error_code(asio::error::timed_out);
    if (!ec) {
      tcp.set_option(asio::ip::tcp::no_delay(true), ec);
      auto protocol = tcp.local_endpoint().protocol();
      co_return StreamSocket(executor, asio::generic::stream_protocol(protocol.family(), IPPROTO_TCP),
                             tcp.release());
    }
  }
  throw connect_failure(endpoint, ec);
}

}  // namespace sockit::net
