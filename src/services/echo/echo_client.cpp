#include "services/echo/echo_client.hpp"

#include "codec/message_splitter.hpp"
#include "net/both.hpp"
#include "net/connector.hpp"
#include "net/endpoint.hpp"
#include "net/within.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <cstdio>
#include <stdexcept>

namespace sockit::echo {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;
using net::connect_stream;
using net::within;
using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// A failure the user should read about: exit code 1 and one line.
struct ClientError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr std::size_t kMaxDatagram = 65507;

void write_stdout(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ClientError(std::string("cannot write to stdout: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Pipe mode over a stream: stdin to the server, everything back to stdout.
awaitable<void> pump_stream(asio::generic::stream_protocol::socket& socket,
                            std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  asio::posix::stream_descriptor input(executor, ::dup(STDIN_FILENO));
  bool input_done = false;
  auto upload = [&]() -> awaitable<void> {
    std::vector<char> buffer(64 * 1024);
    for (;;) {
      auto [ec, n] = co_await input.async_read_some(asio::buffer(buffer), use_tuple);
      if (ec) break;
      auto [write_ec, written] =
          co_await asio::async_write(socket, asio::buffer(buffer.data(), n), use_tuple);
      if (write_ec) throw ClientError("connection lost while sending: " + write_ec.message());
    }
    error_code ignored;
    socket.shutdown(asio::socket_base::shutdown_send, ignored);
    input_done = true;
  };
  auto download = [&]() -> awaitable<void> {
    std::vector<char> buffer(64 * 1024);
    for (;;) {
      auto [ec, n] = input_done
                         ? (co_await within<std::tuple<error_code, std::size_t>>(
                                timeout, socket.async_read_some(asio::buffer(buffer), use_tuple)))
                               .value_or(std::tuple{error_code(asio::error::timed_out), std::size_t{0}})
                         : co_await socket.async_read_some(asio::buffer(buffer), use_tuple);
      if (ec == asio::error::eof) co_return;
      if (ec == asio::error::timed_out)
        throw ClientError(
            fmt::format("server sent nothing for {}s after the end of input and did "
                        "not close (raise --timeout?)",
                        timeout.count() / 1000.0));
      if (ec) throw ClientError("connection lost: " + ec.message());
      write_stdout({buffer.data(), n});
    }
  };
  co_await net::both(upload(), download());
}

// Reads one reply: up to a newline, or whatever came before a short pause.
// Empty when the server closed without answering.
awaitable<std::optional<std::string>> read_reply(asio::generic::stream_protocol::socket& socket,
                                                 std::chrono::milliseconds first_byte_limit) {
  std::string reply;
  char buffer[4096];
  auto limit = first_byte_limit;
  while (reply.empty() || reply.back() != '\n') {
    auto result = co_await within<std::tuple<error_code, std::size_t>>(
        limit, socket.async_read_some(asio::buffer(buffer), use_tuple));
    if (!result) {
      if (reply.empty()) throw ClientError(fmt::format("no reply within {}s", limit.count() / 1000.0));
      break;  // a reply without newline, ended by a pause
    }
    auto [ec, n] = *result;
    if (ec == asio::error::eof) {
      if (reply.empty()) co_return std::nullopt;
      break;
    }
    if (ec) throw ClientError("connection lost: " + ec.message());
    reply.append(buffer, n);
    limit = std::chrono::milliseconds(200);
  }
  co_return reply;
}

awaitable<int> interactive_stream(const net::Endpoint& endpoint, const EchoClientOptions& options,
                                  services::Prompt& prompt) {
  auto socket = co_await connect_stream(endpoint, options.timeout);
  // A greeting (hello mode's "Welcome!") comes unasked.
  asio::steady_timer grace(socket.get_executor(), std::chrono::milliseconds(150));
  auto greeting =
      co_await (socket.async_wait(asio::socket_base::wait_read, use_tuple) || grace.async_wait(use_tuple));
  if (greeting.index() == 0) {
    auto reply = co_await read_reply(socket, options.timeout);
    if (!reply) throw ClientError("server closed the connection");
    write_stdout(*reply);
  }
  while (auto line = prompt.read_line(">> ")) {
    if (line->empty()) continue;
    std::string message = *line + "\n";
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(message), use_tuple);
    if (ec) throw ClientError("connection lost: " + ec.message());
    if (*line == "exit") co_return 0;  // the tutorials' way to leave
    auto reply = co_await read_reply(socket, options.timeout);
    if (!reply) throw ClientError("server closed the connection");
    write_stdout(*reply);
    if (reply->back() != '\n') write_stdout("\n");
  }
  co_return 0;
}

awaitable<std::string> exchange_datagram(asio::ip::udp::socket& socket, std::string_view message,
                                         std::chrono::milliseconds timeout) {
  if (message.size() > kMaxDatagram)
    throw ClientError(fmt::format("line of {} bytes is longer than a UDP datagram ({} bytes)", message.size(),
                                  kMaxDatagram));
  auto [send_ec, sent] = co_await socket.async_send(asio::buffer(message), use_tuple);
  if (send_ec) throw ClientError("cannot send: " + send_ec.message());
  std::string reply(kMaxDatagram, '\0');
  auto result = co_await within<std::tuple<error_code, std::size_t>>(
      timeout, socket.async_receive(asio::buffer(reply), use_tuple));
  if (!result) throw ClientError(fmt::format("no reply within {}s", timeout.count() / 1000.0));
  auto [ec, n] = *result;
  if (ec == asio::error::connection_refused)
    throw ClientError("connection refused (nothing listens on that UDP port)");
  if (ec) throw ClientError("receive failed: " + ec.message());
  reply.resize(n);
  if (reply.empty() || reply.back() != '\n') reply += '\n';
  co_return reply;
}

awaitable<int> run_udp(const net::Endpoint& endpoint, const EchoClientOptions& options,
                       services::Prompt& prompt, bool interactive) {
  auto executor = co_await asio::this_coro::executor;
  asio::ip::udp::resolver resolver(executor);
  auto [resolve_ec, results] =
      co_await resolver.async_resolve(endpoint.host, std::to_string(endpoint.port), use_tuple);
  if (resolve_ec) throw ClientError("cannot resolve host '" + endpoint.host + "': " + resolve_ec.message());
  asio::ip::udp::socket socket(executor);
  auto target = results.begin()->endpoint();
  socket.open(target.protocol());
  socket.connect(target);  // so an ICMP "port unreachable" comes back as an error
  if (interactive) {
    while (auto line = prompt.read_line(">> ")) {
      if (line->empty()) continue;
      write_stdout(co_await exchange_datagram(socket, *line, options.timeout));
    }
    co_return 0;
  }
  asio::posix::stream_descriptor input(executor, ::dup(STDIN_FILENO));
  codec::MessageSplitter lines(kMaxDatagram);
  std::vector<char> buffer(64 * 1024);
  auto send_line = [&](const codec::Message& m) -> awaitable<void> {
    if (!m.text.empty()) write_stdout(co_await exchange_datagram(socket, m.text, options.timeout));
  };
  for (;;) {
    auto [ec, n] = co_await input.async_read_some(asio::buffer(buffer), use_tuple);
    if (ec) break;
    if (lines.feed({buffer.data(), n}) == codec::MessageSplitter::Status::too_long)
      throw ClientError(fmt::format("a line is longer than a UDP datagram ({} bytes)", kMaxDatagram));
    while (auto m = lines.next()) co_await send_line(*m);
  }
  if (auto m = lines.flush()) co_await send_line(*m);
  co_return 0;
}

awaitable<int> run_client(const net::Endpoint& endpoint, const EchoClientOptions& options,
                          services::Prompt& prompt) {
  bool interactive = ::isatty(STDIN_FILENO);
  if (endpoint.transport == net::Transport::udp)
    co_return co_await run_udp(endpoint, options, prompt, interactive);
  if (interactive) co_return co_await interactive_stream(endpoint, options, prompt);
  auto socket = co_await connect_stream(endpoint, options.timeout);
  co_await pump_stream(socket, options.timeout);
  co_return 0;
}

}  // namespace

int run_echo_client(const EchoClientOptions& options, services::Prompt& prompt) {
  auto parsed = net::parse_endpoint(options.address, options.udp ? net::Transport::udp : net::Transport::tcp);
  if (!parsed.endpoint) {
    fmt::print(stderr, "sockit: {}\n", parsed.error);
    return 2;
  }
  auto endpoint = *parsed.endpoint;
  if (options.udp && endpoint.transport == net::Transport::tcp) endpoint.transport = net::Transport::udp;
  asio::io_context context(1);
  int exit_code = 1;
  asio::co_spawn(context, run_client(endpoint, options, prompt), [&](std::exception_ptr error, int code) {
    if (!error) {
      exit_code = code;
      return;
    }
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      fmt::print(stderr, "sockit: {}\n", e.what());
      exit_code = 1;
    }
  });
  context.run();
  return exit_code;
}

}  // namespace sockit::echo
