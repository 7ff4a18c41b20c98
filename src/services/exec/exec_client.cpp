#include "services/exec/exec_client.hpp"

#include "codec/exec_messages.hpp"
#include "codec/frame.hpp"
#include "net/catching.hpp"
#include "net/connector.hpp"
#include "net/endpoint.hpp"
#include "net/stream.hpp"
#include "net/tls.hpp"
#include "net/wake_signal.hpp"
#include "services/server_identity.hpp"
#include "services/exec/token.hpp"
#include "services/framing/frame_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <stdexcept>

namespace sockit::exec {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;
using codec::exec::Type;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kHelloName = "HELLO";
constexpr std::string_view kAuthOkName = "AUTH_OK";
const std::string kPrompt = ">> ";

// Ends the client with exit status 255 and one line on stderr.
struct ClientFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void write_all(int fd, std::span<const char> bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ClientFailure(std::string("cannot write output: ") + std::strerror(errno));
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
}

// Reads the client's stdin: asynchronously when it can be polled (pipe,
// terminal, socket); a regular file or /dev/null cannot be, and is read
// directly, which never blocks for long.
class Input {
 public:
  explicit Input(const asio::any_io_executor& executor) : descriptor_(executor) {
    error_code ec;
    descriptor_.assign(::dup(STDIN_FILENO), ec);
    pollable_ = !ec;
  }
  awaitable<std::size_t> read(std::span<char> into, error_code& ec) {
    if (pollable_) {
      auto [e, n] = co_await descriptor_.async_read_some(asio::buffer(into.data(), into.size()), use_tuple);
      ec = e;
      co_return n;
    }
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);  // let others run
    ssize_t n;
    do n = ::read(STDIN_FILENO, into.data(), into.size());
    while (n < 0 && errno == EINTR);
    ec = n < 0    ? error_code(errno, boost::system::system_category())
         : n == 0 ? asio::error::eof
                  : error_code();
    co_return n > 0 ? static_cast<std::size_t>(n) : 0;
  }

 private:
  asio::posix::stream_descriptor descriptor_;
  bool pollable_ = false;
};

// One line per read_line(), for commands piped into the client.
class StdinLines final : public services::Prompt {
 public:
  std::optional<std::string> read_line(const std::string&) override {
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    return line;
  }
};

class ExecClient {
 public:
  ExecClient(const ExecClientOptions& options, services::Prompt& prompt)
      : options_(options), prompt_(prompt) {}

  awaitable<int> run() {
    auto token = load_token(options_.token_file);
    if (!token)
      throw ClientFailure("no token: give --token-file FILE or set SOCKIT_TOKEN (the server's token)");
    auto endpoint = net::parse_endpoint_or_throw(net::with_default_port(options_.address, kDefaultPort));
    if (endpoint.transport == net::Transport::udp) throw std::invalid_argument("exec runs over TCP, not UDP");
    auto socket = co_await net::connect_stream(endpoint, options_.connect_timeout);
    bool tls = options_.tls || !options_.fingerprint.empty() || !options_.cacert.empty();
    std::shared_ptr<net::TlsContext> context;
    std::optional<net::Stream> stream;
    if (tls) {
      context = net::make_client_tls(options_.cacert);
      stream.emplace(std::move(socket), *context);
      error_code ec;
      co_await stream->handshake_client(endpoint.host, ec);
      if (ec)
        throw ClientFailure(endpoint.to_string() + ": TLS handshake failed: " + ec.message() +
                            (options_.cacert.empty() ? "" : " (checked against " + options_.cacert + ")"));
      check_fingerprint(endpoint, *stream);
    } else {
      stream.emplace(std::move(socket));
    }
    services::FrameConnection connection(std::move(*stream));
    int status = kClientFailure;
    std::exception_ptr failure;
    co_await (guarded(session(connection, *token, status), connection, failure) || connection.run_writer());
    if (failure) std::rethrow_exception(failure);
    if (connection.failed() && status == kClientFailure) throw ClientFailure("connection lost");
    co_return status;
  }

 private:
  void check_fingerprint(const net::Endpoint& endpoint, net::Stream& stream) {
    try {
      services::verify_server_identity(endpoint, stream,
                                       {options_.fingerprint, options_.cacert, options_.known_hosts},
                                       "refusing to send the token");
    } catch (const services::IdentityError& e) {
      throw ClientFailure(e.what());
    }
  }

  // `||` of two awaitables waits for the first to *succeed*: a session that
  // throws would wait for the writer forever. So a failure is caught here
  // and closes the connection, which ends the writer.
  static awaitable<void> guarded(awaitable<void> task, services::FrameConnection& connection,
                                 std::exception_ptr& failure) {
    co_await net::catching(std::move(task), failure);
    if (failure) {
      connection.stream().close();
      connection.finish();
    }
  }

  awaitable<void> session(services::FrameConnection& connection, const std::string& token, int& status) {
    // HELLO, AUTH and the first RUN in one write: one round trip.
    auto hello_frame = codec::hello_payload({codec::exec::kVersion, std::string(codec::exec::kService)});
    co_await connection.send(+codec::FrameType::hello, hello_frame);
    co_await connection.send(+Type::auth, token);
    bool one_command = !options_.command.empty();
    if (one_command) {
      codec::exec::Run run{codec::exec::RunForm::argv, options_.command};
      co_await send_run(run, connection);
    }
    auto hello = co_await expect(connection, +codec::FrameType::hello, kHelloName);
    if (!codec::parse_hello(hello) || codec::parse_hello(hello)->version != codec::exec::kVersion)
      throw ClientFailure("the server speaks another protocol version");
    co_await expect(connection, +Type::auth_ok, kAuthOkName);
    if (one_command) {
      if (options_.no_stdin) co_await connection.send(+Type::stdin_data, "");  // -n: end of input at once
      status = co_await follow(connection, !options_.no_stdin);
    } else {
      status = 0;
      while (auto line = prompt_.read_line(kPrompt)) {
        if (line->find_first_not_of(" \t") == std::string::npos) continue;
        if (*line == "exit" || *line == "quit") break;
        codec::exec::Run run;  // built here: GCC 12 destroys temporaries of a co_await twice
        run.form = codec::exec::RunForm::command_line;
        run.args.push_back(*line);
        co_await send_run(run, connection);
        co_await connection.send(+Type::stdin_data, "");  // commands at the prompt get no input
        status = co_await follow(connection, false);
      }
    }
    connection.finish();
    co_await connection.flush();
  }

  awaitable<void> send_run(const codec::exec::Run& run, services::FrameConnection& connection) {
    auto payload = codec::exec::run_payload(run);
    co_await connection.send(+Type::run, payload);
  }

  // The next frame, which must be of `type` (an ERROR ends the client).
  awaitable<std::string> expect(services::FrameConnection& connection, std::uint8_t type,
                                std::string_view name) {
    error_code ec;
    auto frame = co_await connection.read_frame(ec);
    if (!frame) throw_read_failure(connection, ec);
    if (frame->type == +codec::FrameType::error) throw_error_frame(frame->text());
    if (frame->type != type)
      throw ClientFailure(fmt::format("protocol error: expected {}, got frame type {}", name, frame->type));
    co_return std::string(frame->text());
  }

  [[noreturn]] void throw_read_failure(services::FrameConnection& connection, const error_code& ec) {
    if (!connection.decoder().error().empty())
      throw ClientFailure("protocol error: " + connection.decoder().error());
    if (ec == asio::error::eof)
      throw ClientFailure(
          connection.stream().is_tls()
              ? "the server closed the connection"
              : "the server closed the connection (if it uses TLS: add --tls or --fingerprint)");
    throw ClientFailure("connection lost: " + ec.message());
  }

  [[noreturn]] void throw_error_frame(std::string_view payload) {
    auto error = codec::parse_error(payload);
    if (!error) throw ClientFailure("protocol error: malformed ERROR frame");
    throw ClientFailure(fmt::format("server: {} ({})", error->text, codec::error_code_name(error->code)));
  }

  // Runs until the command's EXIT: output to our stdout/stderr, our stdin
  // and signals to it. Returns its exit status as a shell gives it.
  awaitable<int> follow(services::FrameConnection& connection, bool forward_stdin) {
    std::optional<codec::exec::Exit> exit;
    std::exception_ptr failure;
    if (forward_stdin)
      co_await (net::catching(receive(connection, exit), failure) || send_stdin(connection) ||
                forward_signals(connection));
    else
      co_await (net::catching(receive(connection, exit), failure) || forward_signals(connection));
    if (failure) std::rethrow_exception(failure);
    if (!exit) throw ClientFailure("interrupted");
    if (!exit->reason.empty()) fmt::print(stderr, "sockit: remote command killed: {}\n", exit->reason);
    co_return exit->signaled ? 128 + exit->value : exit->value;
  }

  awaitable<void> receive(services::FrameConnection& connection, std::optional<codec::exec::Exit>& exit) {
    error_code ec;
    for (;;) {
      auto frame = co_await connection.read_frame(ec);
      if (!frame) throw_read_failure(connection, ec);
      switch (frame->type) {
        case +Type::stdout_data:
          write_all(STDOUT_FILENO, frame->payload);
          break;
        case +Type::stderr_data:
          write_all(STDERR_FILENO, frame->payload);
          break;
        case +Type::stdin_ack: {
          auto bytes = codec::exec::parse_stdin_ack(frame->text());
          if (!bytes) throw ClientFailure("protocol error: malformed STDIN_ACK frame");
          stdin_credit_ += *bytes;
          if (credit_signal_) credit_signal_->notify();
          break;
        }
        case +Type::exit:
          exit = codec::exec::parse_exit(frame->text());
          if (!exit) throw ClientFailure("protocol error: malformed EXIT frame");
          co_return;
        case +codec::FrameType::error:
          throw_error_frame(frame->text());
        default:
          throw ClientFailure(fmt::format("protocol error: unexpected frame type {}", frame->type));
      }
    }
  }

  // Stdin within the server's window (codec::exec::kStdinWindow): never
  // more unacknowledged than that, so the connection always has room for a
  // SIGNAL and the server always reads.
  awaitable<void> send_stdin(services::FrameConnection& connection) {
    auto executor = co_await asio::this_coro::executor;
    Input input(executor);
    if (!credit_signal_) credit_signal_ = std::make_unique<net::WakeSignal>(executor);
    stdin_credit_ = codec::exec::kStdinWindow;
    for (;;) {
      while (stdin_credit_ == 0) co_await credit_signal_->wait();
      auto buffer = connection.acquire();
      auto area = services::FrameConnection::payload_area(buffer);
      error_code ec;
      std::size_t n = co_await input.read(area.first(std::min<std::size_t>(area.size(), stdin_credit_)), ec);
      if (ec) break;
      stdin_credit_ -= static_cast<std::uint32_t>(n);
      if (!co_await connection.submit(std::move(buffer), +Type::stdin_data, n)) break;
    }
    co_await connection.send(+Type::stdin_data, "");  // end of input
    asio::steady_timer forever(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
    co_await forever.async_wait(use_tuple);
  }

  // Ctrl-C (and TERM, HUP) go to the remote command; a third Ctrl-C gives up.
  awaitable<void> forward_signals(services::FrameConnection& connection) {
    asio::signal_set signals(co_await asio::this_coro::executor, SIGINT, SIGTERM, SIGHUP);
    for (int interrupts = 0;;) {
      auto [ec, number] = co_await signals.async_wait(use_tuple);
      if (ec) co_return;
      if (number == SIGINT && ++interrupts >= 3) co_return;  // ends follow(): disconnect
      auto payload = codec::exec::signal_payload(number);
      co_await connection.send(+Type::signal, payload);
    }
  }

  const ExecClientOptions& options_;
  services::Prompt& prompt_;
  std::uint32_t stdin_credit_ = 0;                  // STDIN bytes we may still send
  std::unique_ptr<net::WakeSignal> credit_signal_;  // wakes send_stdin() on credit
};

}  // namespace

int run_exec_client(const ExecClientOptions& options, services::Prompt& prompt) {
  StdinLines lines;
  bool interactive = options.command.empty() && ::isatty(STDIN_FILENO);
  asio::io_context context(1);  // before the client: its timers must die first
  ExecClient client(options, interactive ? prompt : static_cast<services::Prompt&>(lines));
  int status = kClientFailure;
  asio::co_spawn(context, client.run(), [&](std::exception_ptr error, int code) {
    if (!error) {
      status = code;
      return;
    }
    try {
      std::rethrow_exception(error);
    } catch (const std::invalid_argument& e) {
      fmt::print(stderr, "sockit: {}\n", e.what());
      status = 2;
    } catch (const std::exception& e) {
      fmt::print(stderr, "sockit: {}\n", e.what());
      status = kClientFailure;
    }
  });
  context.run();
  return status;
}

}  // namespace sockit::exec
