#include "services/exec/exec_server.hpp"

#include "codec/exec_messages.hpp"
#include "codec/frame.hpp"
#include "net/listener.hpp"
#include "net/stream.hpp"
#include "net/tls.hpp"
#include "net/within.hpp"
#include "services/exec/command_run.hpp"
#include "services/exec/token.hpp"
#include "services/framing/frame_connection.hpp"
#include "services/listener_set.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <optional>
#include <variant>

namespace sockit::exec {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;
using codec::ErrorCode;
using codec::exec::Type;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
const std::string kNotFrames =
    "error: this is a sockit exec server, which speaks frames (docs/protocol/frames.md); "
    "use: sockit exec HOST -- COMMAND\n";

// What every session of one service instance shares.
struct Shared {
  ExecConfig config;
  std::string log_name;  // "exec.main"
  std::string path;      // PATH, for finding programs
  std::shared_ptr<net::TlsContext> tls;
  std::string fingerprint;
  TokenVerifier verifier;
  AuthThrottle throttle;
  services::Counters counters;

  Shared(ExecConfig c)
      : config(std::move(c)), verifier(config.token), throttle(config.max_auth_failures, config.lockout) {}
};

std::string describe(const std::vector<std::string>& args) {
  std::string text;
  for (const auto& arg : args) text += (text.empty() ? "" : " ") + arg;
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

class ExecSession {
 public:
  ExecSession(std::shared_ptr<Shared> shared, std::string peer, std::string ip,
              const asio::any_io_executor& executor)
      : shared_(std::move(shared)),
        peer_(std::move(peer)),
        ip_(ip.empty() ? "unix" : std::move(ip)),
        run_executor_(executor),
        started_(executor) {
    started_.expires_at(asio::steady_timer::time_point::max());
  }

  awaitable<void> run(net::StreamSocket socket) {
    auto& counters = shared_->counters;
    services::Counters::add(counters.connections);
    services::Counters::add(counters.active);
    auto executor = socket.get_executor();
    auto stream =
        shared_->tls ? net::Stream(std::move(socket), *shared_->tls) : net::Stream(std::move(socket));
    services::FrameConnection connection(std::move(stream), shared_->config.max_frame);
    co_await (guarded(connection) || connection.run_writer());
    connection.stream().close();
    services::Counters::add(counters.bytes_in, connection.bytes_read());
    services::Counters::add(counters.bytes_out, connection.bytes_written());
    counters.active.fetch_sub(1, std::memory_order_relaxed);
    spdlog::debug("peer={} service={} event=close", peer_, shared_->log_name);
  }

 private:
  using Started = std::variant<std::monostate, std::shared_ptr<CommandRun>, Refusal>;

  // `||` waits for the first branch to *succeed*: if serve() threw, the
  // writer would wait forever. A failure is logged and closes the connection.
  awaitable<void> guarded(services::FrameConnection& connection) {
    try {
      co_await serve(connection);
    } catch (const std::exception& e) {
      services::Counters::add(shared_->counters.errors);
      spdlog::error("peer={} service={} event=session_failed error=\"{}\"", peer_, shared_->log_name,
                    e.what());
      connection.stream().close();
      connection.finish();
    }
  }

  awaitable<void> serve(services::FrameConnection& connection) {
    auto authenticated = co_await net::within<bool>(
        std::chrono::duration_cast<std::chrono::milliseconds>(shared_->config.auth_timeout),
        authenticate(connection));
    if (!authenticated) {
      spdlog::info("peer={} service={} event=auth_timeout", peer_, shared_->log_name);
      co_await fail(connection, ErrorCode::timeout, "authentication took too long");
    } else if (*authenticated) {
      co_await (read_frames(connection) || run_commands(connection));
    }
    connection.finish();
    co_await connection.flush();
  }

  awaitable<void> fail(services::FrameConnection& connection, ErrorCode code, std::string_view text) {
    auto payload = codec::error_payload(code, text);
    co_await connection.send(+codec::FrameType::error, payload);
  }

  awaitable<bool> authenticate(services::FrameConnection& connection) {
    error_code ec;
    if (shared_->tls) {
      co_await connection.stream().handshake_server(ec);
      if (ec) {
        spdlog::info("peer={} service={} event=tls_failed error=\"{}\"", peer_, shared_->log_name,
                     ec.message());
        co_return false;
      }
    }
    bool frames = co_await connection.first_byte_is(+codec::FrameType::hello, ec);
    if (ec) co_return false;
    if (!frames) {
      std::span<const char> text(kNotFrames.data(), kNotFrames.size());
      co_await connection.stream().write(std::span(&text, 1), ec);
      co_return false;
    }
    auto frame = co_await connection.read_frame(ec);
    if (!frame) co_return co_await refuse_bad_stream(connection, ec);
    auto hello = codec::parse_hello(frame->text());
    if (!hello || hello->version == 0) {
      co_await fail(connection, ErrorCode::malformed, "the first frame must be a HELLO");
      co_return false;
    }
    if (hello->service != codec::exec::kService) {
      auto why = "this server runs 'exec', not '" + hello->service + "'";
      co_await fail(connection, ErrorCode::wrong_service, why);
      co_return false;
    }
    // Temporaries are kept out of co_await expressions: GCC 12 destroys some
    // of them twice (a braced Hello here was freed twice under ASan).
    codec::Hello answer{std::min(hello->version, codec::exec::kVersion), std::string(codec::exec::kService)};
    auto answer_payload = codec::hello_payload(answer);
    co_await connection.send(+codec::FrameType::hello, answer_payload);
    frame = co_await connection.read_frame(ec);
    if (!frame) co_return co_await refuse_bad_stream(connection, ec);
    if (frame->type != +Type::auth) {
      co_await fail(connection, ErrorCode::unexpected, "authenticate (AUTH) first");
      co_return false;
    }
    if (shared_->throttle.locked_out(ip_)) {
      spdlog::warn("peer={} service={} event=locked_out", peer_, shared_->log_name);
      co_await fail(connection, ErrorCode::locked_out,
                    "too many failed attempts from your address; try later");
      co_return false;
    }
    if (!shared_->verifier.matches(frame->text())) {
      unsigned failures = shared_->throttle.record_failure(ip_);
      services::Counters::add(shared_->counters.errors);
      spdlog::warn("peer={} service={} event=auth_failed failures={}", peer_, shared_->log_name, failures);
      asio::steady_timer delay(co_await asio::this_coro::executor, shared_->config.auth_delay);
      co_await delay.async_wait(use_tuple);
      co_await fail(connection, ErrorCode::auth_failed, "wrong token");
      co_return false;
    }
    shared_->throttle.record_success(ip_);
    spdlog::info("peer={} service={} event=authenticated", peer_, shared_->log_name);
    co_await connection.send(+Type::auth_ok, "");
    co_return true;
  }

  // After a read_frame() that gave nothing: tell the peer why, if it can hear it.
  awaitable<bool> refuse_bad_stream(services::FrameConnection& connection, const error_code& ec) {
    if (connection.decoder().error().empty()) co_return false;  // an I/O error: nobody to tell
    spdlog::info("peer={} service={} event=bad_frame error=\"{}\"", peer_, shared_->log_name,
                 connection.decoder().error());
    auto why = connection.decoder().error();
    co_await fail(connection, connection.decoder().error_code(), why);
    co_return false;
  }

  // The client's frames while the session lasts: RUN starts a command at
  // once (so STDIN frames pipelined after it find it), STDIN and SIGNAL go
  // to the running command.
  awaitable<void> read_frames(services::FrameConnection& connection) {
    error_code ec;
    for (;;) {
      auto frame = co_await connection.read_frame(ec);
      if (!frame) {
        co_await refuse_bad_stream(connection, ec);
        co_return;
      }
      auto running = std::get_if<std::shared_ptr<CommandRun>>(&current_);
      switch (static_cast<Type>(frame->type)) {
        case Type::run: {
          if (!std::holds_alternative<std::monostate>(current_)) {
            co_await fail(connection, ErrorCode::unexpected, "RUN while a command is running");
            co_return;
          }
          auto run = codec::exec::parse_run(frame->text());
          if (!run) {
            co_await fail(connection, ErrorCode::malformed, "malformed RUN frame");
            co_return;
          }
          start(*run);
          break;
        }
        case Type::stdin_data:
          if (running) {
            auto command = *running;  // kept alive while we wait for room
            command->queue_stdin(frame->text());
            // While the command does not read its stdin, this session reads
            // nothing either, so it would not see its client leave: look.
            while (!command->has_stdin_room()) {
              if (net::peer_hung_up(connection.stream().socket())) co_return;
              asio::steady_timer pause(run_executor_, std::chrono::milliseconds(250));
              co_await (command->stdin_room() || pause.async_wait(use_tuple));
            }
          }
          break;  // otherwise late input of a finished command: dropped
        case Type::signal: {
          auto number = codec::exec::parse_signal(frame->text());
          if (!number) {
            co_await fail(connection, ErrorCode::malformed, "SIGNAL carries one of 1, 2, 3, 9, 15");
            co_return;
          }
          if (running) (*running)->signal(*number);
          break;
        }
        default:
          auto why = "frame type " + std::to_string(frame->type) + " is not expected from a client";
          co_await fail(connection, ErrorCode::unexpected, why);
          co_return;
      }
    }
  }

  void start(const codec::exec::Run& run) {
    const auto& config = shared_->config;
    auto prepared = prepare_command(run, config, shared_->path);
    if (auto* refusal = std::get_if<Refusal>(&prepared)) {
      current_ = *refusal;
    } else {
      auto started = CommandRun::start(run_executor_, std::get<PreparedCommand>(prepared), config.dir,
                                       RunLimits{config.timeout, config.max_output});
      if (auto* refusal = std::get_if<Refusal>(&started))
        current_ = *refusal;
      else
        current_ = std::shared_ptr<CommandRun>(std::move(std::get<std::unique_ptr<CommandRun>>(started)));
    }
    if (auto* command = std::get_if<std::shared_ptr<CommandRun>>(&current_))
      spdlog::info("peer={} service={} event=run pid={} command=\"{}\"", peer_, shared_->log_name,
                   (*command)->pid(), describe(run.args));
    else
      spdlog::info("peer={} service={} event=refused command=\"{}\" reason=\"{}\"", peer_, shared_->log_name,
                   describe(run.args), std::get<Refusal>(current_).message);
    started_.cancel();
  }

  awaitable<void> run_commands(services::FrameConnection& connection) {
    for (;;) {
      auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(shared_->config.idle_timeout);
      auto deadline = std::chrono::steady_clock::now() + idle;
      while (std::holds_alternative<std::monostate>(current_)) {
        if (std::chrono::steady_clock::now() >= deadline) {
          spdlog::info("peer={} service={} event=idle_timeout", peer_, shared_->log_name);
          co_await fail(connection, ErrorCode::timeout, "idle for too long");
          co_return;
        }
        co_await net::within<std::tuple<error_code>>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                         deadline - std::chrono::steady_clock::now()),
                                                     started_.async_wait(use_tuple));
      }
      codec::exec::Exit exit;
      if (auto* refusal = std::get_if<Refusal>(&current_)) {
        auto message = refusal->message + "\n";
        co_await connection.send(+Type::stderr_data, message);
        exit.value = refusal->exit_code;
      } else {
        auto command = std::get<std::shared_ptr<CommandRun>>(current_);
        exit = co_await command->run(connection);
        spdlog::info("peer={} service={} event=exit pid={} {}={}{}", peer_, shared_->log_name, command->pid(),
                     exit.signaled ? "signal" : "code", exit.value,
                     exit.reason.empty() ? "" : " reason=\"" + exit.reason + "\"");
      }
      current_ = std::monostate{};
      auto payload = codec::exec::exit_payload(exit);
      co_await connection.send(+Type::exit, payload);
    }
  }

  std::shared_ptr<Shared> shared_;
  std::string peer_;
  std::string ip_;
  Started current_;
  asio::any_io_executor run_executor_;
  asio::steady_timer started_;  // cancelled when a RUN has started a command
};

awaitable<void> exec_session(std::shared_ptr<Shared> shared, net::Session session) {
  error_code ec;
  auto remote = session.socket.remote_endpoint(ec);
  ExecSession exec(shared, session.peer, ec ? std::string() : net::peer_ip(remote),
                   session.socket.get_executor());
  co_await exec.run(std::move(session.socket));
}

class ExecServer final : public services::Service {
 public:
  explicit ExecServer(ExecConfig config) {
    validate(config);
    shared_ = std::make_shared<Shared>(std::move(config));
    shared_->log_name = "exec." + shared_->config.name;
    const char* path = std::getenv("PATH");
    shared_->path = path ? path : "/usr/local/bin:/usr/bin:/bin";
  }

  const std::string& name() const override { return shared_->log_name; }
  const services::Counters& counters() const override { return shared_->counters; }
  std::vector<services::BoundAddress> addresses() const override { return addresses_; }

  void start(net::Engine& engine) override {
    auto& config = shared_->config;
    if (config.tls_self_signed) {
      auto pair = net::ensure_self_signed(config.tls_dir.empty() ? default_tls_dir() : config.tls_dir);
      shared_->tls = net::make_server_tls(pair.cert_file, pair.key_file);
      shared_->fingerprint = pair.fingerprint;
      spdlog::info("service={} event=tls certificate={} created={} fingerprint={}", shared_->log_name,
                   pair.cert_file, pair.created, pair.fingerprint);
    } else if (!config.tls_cert.empty()) {
      shared_->tls = net::make_server_tls(config.tls_cert, config.tls_key);
      shared_->fingerprint = net::certificate_fingerprint_file(config.tls_cert);
      spdlog::info("service={} event=tls certificate={} fingerprint={}", shared_->log_name, config.tls_cert,
                   shared_->fingerprint);
    }
    // A refused client reads an ERROR frame where it expects the HELLO.
    std::string refusal;
    codec::append_frame(
        refusal, +codec::FrameType::error,
        codec::error_payload(ErrorCode::busy, "server busy, too many connections; try again later"));
    auto handler = [shared = shared_](net::Session session) {
      return exec_session(shared, std::move(session));
    };
    listeners_.emplace(shared_->log_name, shared_->counters,
                       services::ListenLimits{config.max_connections, config.max_per_ip, config.backlog},
                       handler, refusal);
    for (const auto& text : config.listen) announce(listeners_->listen(engine, text));
  }

  void stop() override {
    if (listeners_) listeners_->stop();
  }

 private:
  void announce(const net::Endpoint& bound) {
    spdlog::info("service={} event=listening address={} tls={}", shared_->log_name, bound.to_string(),
                 shared_->tls != nullptr);
    std::string command = "sockit exec ";
    if (!shared_->fingerprint.empty()) command += "--fingerprint " + shared_->fingerprint + " ";
    addresses_.push_back({bound.to_string(), command + net::client_address(bound) + " -- uname -a"});
  }

  std::shared_ptr<Shared> shared_;
  std::optional<services::ListenerSet> listeners_;
  std::vector<services::BoundAddress> addresses_;
};

}  // namespace

std::unique_ptr<services::Service> make_exec_server(ExecConfig config) {
  return std::make_unique<ExecServer>(std::move(config));
}

}  // namespace sockit::exec
