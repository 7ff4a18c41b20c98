#include "services/transfer/transfer_peer.hpp"

#include "codec/frame.hpp"
#include "net/connector.hpp"
#include "net/engine.hpp"
#include "net/listener.hpp"
#include "net/stream.hpp"
#include "net/tls.hpp"
#include "net/within.hpp"
#include "services/state_dir.hpp"
#include "services/transfer/destination.hpp"
#include "services/transfer/handshake.hpp"
#include "services/transfer/source_tree.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace sockit::transfer {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;
using namespace codec::transfer;

namespace {

using Body = std::function<awaitable<Summary>(services::FrameConnection&, const RoleMessage& theirs)>;

void report(const OnSession& on_session, const std::string& peer, std::exception_ptr error,
            std::optional<Summary> summary) {
  SessionOutcome outcome{peer, std::move(summary), {}};
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      outcome.failure = e.what();
    }
  }
  on_session(outcome);
}

// What a side does with a connection once made: `listening` says which end
// it is (the listening end waits for the peer's first byte).
using StreamHandler = std::function<awaitable<void>(net::Stream, std::string peer, bool listening)>;

void run_connecting(const PeerOptions& options, const StreamHandler& handler) {
  auto endpoint = net::parse_endpoint_or_throw(net::with_default_port(options.connect, kDefaultPort));
  if (endpoint.transport == net::Transport::udp) throw std::invalid_argument("transfers run over TCP, not UDP");
  asio::io_context context(1);
  std::exception_ptr setup_error;
  auto connect_and_run = [&]() -> awaitable<void> {
    std::shared_ptr<net::TlsContext> tls;
    std::optional<net::Stream> stream;
    try {
      auto socket = co_await net::connect_stream(endpoint, options.connect_timeout);
      if (options.tls) {
        tls = net::make_client_tls(options.trust.cacert);
        stream.emplace(std::move(socket), *tls);
        error_code ec;
        co_await stream->handshake_client(endpoint.host, ec);
        if (ec) throw net::ConnectError(endpoint.to_string() + ": TLS handshake failed: " + ec.message());
        services::verify_server_identity(endpoint, *stream, options.trust, "refusing to transfer");
      } else {
        stream.emplace(std::move(socket));
      }
    } catch (...) {
      setup_error = std::current_exception();
      co_return;
    }
    co_await handler(std::move(*stream), endpoint.to_string(), false);
  };
  asio::co_spawn(context, connect_and_run(), [&](std::exception_ptr error) {
    if (error && !setup_error) setup_error = error;
  });
  context.run();
  if (setup_error) std::rethrow_exception(setup_error);
}

void run_listening(const PeerOptions& options, bool sending, const StreamHandler& handler) {
  auto endpoint = net::parse_endpoint_or_throw(net::with_default_port(options.listen, kDefaultPort));
  if (endpoint.transport == net::Transport::udp) throw std::invalid_argument("transfers run over TCP, not UDP");
  std::shared_ptr<net::TlsContext> tls;
  std::string fingerprint;
  if (options.tls) {
    auto dir = options.tls_dir.empty() ? services::state_dir() + "/transfer-tls" : options.tls_dir;
    auto pair = net::ensure_self_signed(dir);
    tls = net::make_server_tls(pair.cert_file, pair.key_file);
    fingerprint = pair.fingerprint;
  }
  net::Engine engine(1);
  net::ListenOptions listen_options;
  listen_options.log_name = sending ? "send" : "recv";
  auto listener = net::StreamListener::bind(engine, endpoint, listen_options);
  const auto& bound = listener->bound();
  if (options.print_address) {
    fmt::print("{}\n", bound.to_string());
    std::fflush(stdout);
  }
  fmt::print(stderr, "sockit {}: listening on {}{}; on the other machine run: {} {}{} THIS-HOST:{}\n",
             listen_options.log_name, bound.to_string(), options.tls ? " (TLS)" : "", options.program,
             sending ? "recv" : "send", options.tls ? " --tls --fingerprint " + fingerprint : "", bound.port);
  // One transfer at a time; the next peer waits in the backlog.
  auto limiter = std::make_shared<net::ConnectionLimiter>(1, 1);
  auto on_connection = [&, tls](net::Session session) -> awaitable<void> {
    if (tls) {
      net::Stream stream(std::move(session.socket), *tls);
      error_code ec;
      co_await stream.handshake_server(ec);
      if (ec) {
        fmt::print(stderr, "sockit {}: TLS handshake with {} failed: {}\n", listen_options.log_name,
                   session.peer, ec.message());
        co_return;
      }
      co_await handler(std::move(stream), session.peer, true);
    } else {
      co_await handler(net::Stream(std::move(session.socket)), session.peer, true);
    }
    if (!options.keep_listening) {
      listener->stop();
      engine.stop();
    }
  };
  listener->start(on_connection, limiter);
  engine.run();
}

void run_peer(const PeerOptions& options, bool sending, const StreamHandler& handler) {
  if (options.connect.empty() == options.listen.empty())
    throw std::invalid_argument("give the other side's HOST:PORT, or --listen ADDR");
  if (options.connect.empty())
    run_listening(options, sending, handler);
  else
    run_connecting(options, handler);
}

// A framed session (HELLO, ROLE, then `body`), reported to on_session.
StreamHandler framed(const RoleMessage& mine, std::chrono::milliseconds handshake_timeout, Body body,
                     const OnSession& on_session) {
  return [=, &on_session](net::Stream stream, std::string peer, bool listening) -> awaitable<void> {
    services::FrameConnection connection(std::move(stream), kMaxFramePayload);
    if (listening && !connection.stream().is_tls()) {
      // Someone typing at the port with nc is told what this is.
      error_code ec;
      bool frames = co_await connection.first_byte_is(+codec::FrameType::hello, ec);
      if (ec) co_return;
      if (!frames) {
        std::span<const char> piece(kNotFrames.data(), kNotFrames.size());
        co_await connection.stream().write(std::span(&piece, 1), ec);
        co_return;
      }
    }
    std::optional<Summary> summary;
    std::exception_ptr error;
    try {
      auto theirs = co_await net::within(handshake_timeout, exchange_roles(connection, mine));
      if (!theirs) throw TransferFailure("the peer did not answer the handshake in time");
      summary = co_await body(connection, *theirs);
    } catch (...) {
      error = std::current_exception();
    }
    report(on_session, peer, error, std::move(summary));
  };
}

}  // namespace

void run_sender(const PeerOptions& options, const SourceList& sources, const SessionSettings& settings,
                const OnSession& on_session) {
  RoleMessage mine{Role::sender, settings.digest, sources.files, sources.bytes};
  auto body = [&](services::FrameConnection& connection, const RoleMessage&) {
    return send_files(connection, sources, settings);
  };
  run_peer(options, true, framed(mine, settings.stall_timeout, body, on_session));
}

void run_receiver(const PeerOptions& options, Destination& destination, const SessionSettings& settings,
                  const OnSession& on_session) {
  RoleMessage mine{Role::receiver, DigestKind::none, 0, 0};
  auto body = [&](services::FrameConnection& connection, const RoleMessage& theirs) {
    return receive_files(connection, destination, theirs, settings);
  };
  run_peer(options, false, framed(mine, settings.stall_timeout, body, on_session));
}

namespace {

awaitable<Summary> send_raw(net::Stream& stream, const std::string& file, const SessionSettings& settings) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st{};
  if (!fd || ::fstat(fd.get(), &st) != 0) throw TransferFailure(file + ": " + std::strerror(errno));
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (settings.progress) {
    settings.progress->begin(1, size);
    settings.progress->file_started(file, size, 0);
  }
  std::vector<char> buffer(kChunkBytes);
  Summary summary;
  for (;;) {
    ssize_t n;
    do n = ::read(fd.get(), buffer.data(), buffer.size());
    while (n < 0 && errno == EINTR);
    if (n < 0) throw TransferFailure(file + ": " + std::strerror(errno));
    if (n == 0) break;
    std::span<const char> piece(buffer.data(), static_cast<std::size_t>(n));
    error_code ec;
    co_await stream.write(std::span(&piece, 1), ec);
    if (ec) throw TransferFailure("connection lost: " + ec.message());
    summary.bytes += piece.size();
    if (settings.progress) settings.progress->advanced(piece.size());
  }
  // A half-close says "that is all" (nc -l then ends), but only a plain socket can.
  error_code ignored;
  if (!stream.is_tls()) stream.socket().shutdown(asio::socket_base::shutdown_send, ignored);
  ++summary.saved;
  if (settings.progress) {
    settings.progress->file_done(file, Outcome::saved, "");
    settings.progress->end();
  }
  co_return summary;
}

awaitable<Summary> receive_raw(net::Stream& stream, const std::string& file, bool overwrite,
                               const SessionSettings& settings) {
  auto slash = file.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : file.substr(0, slash);
  std::string name = slash == std::string::npos ? file : file.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") throw std::invalid_argument(file + ": not a file name");
  Destination destination(dir, overwrite);
  std::error_code fs_error;
  Fd part = destination.open_part(name, 0, fs_error);
  if (fs_error) throw TransferFailure("cannot write " + file + ": " + fs_error.message());
  if (settings.progress) {
    settings.progress->begin(1, 0);
    settings.progress->file_started(file, 0, 0);
  }
  std::vector<char> buffer(kChunkBytes);
  Summary summary;
  for (;;) {
    error_code ec;
    std::size_t n = co_await stream.read_some(buffer, ec);
    if (ec == asio::error::eof) break;
    if (ec) throw TransferFailure("connection lost after " + std::to_string(summary.bytes) + " bytes: " +
                                  ec.message() + "; nothing saved as " + file);
    if (::write(part.get(), buffer.data(), n) != static_cast<ssize_t>(n)) {
      int error = errno;
      destination.remove_part(name);
      throw TransferFailure("cannot write " + file + ": " + std::strerror(error));
    }
    summary.bytes += n;
    if (settings.progress) settings.progress->advanced(n);
  }
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  mode_t mask = ::umask(0);
  ::umask(mask);
  if (auto ec = destination.commit(name, part.get(), 0666 & ~mask, now.tv_sec, static_cast<std::uint32_t>(now.tv_nsec))) {
    destination.remove_part(name);
    throw TransferFailure("cannot save " + file + ": " +
                          (ec.value() == EEXIST ? std::string("it exists (--overwrite replaces it)") : ec.message()));
  }
  ++summary.saved;
  if (settings.progress) {
    settings.progress->file_done(file, Outcome::saved, "");
    settings.progress->end();
  }
  co_return summary;
}

using RawBody = std::function<awaitable<Summary>(net::Stream&)>;

StreamHandler raw(RawBody body, const OnSession& on_session) {
  return [=, &on_session](net::Stream stream, std::string peer, bool) -> awaitable<void> {
    std::optional<Summary> summary;
    std::exception_ptr error;
    try {
      summary = co_await body(stream);
    } catch (...) {
      error = std::current_exception();
    }
    report(on_session, peer, error, std::move(summary));
  };
}

}  // namespace

void run_raw_sender(const PeerOptions& options, const std::string& file, const SessionSettings& settings,
                    const OnSession& on_session) {
  if (::access(file.c_str(), R_OK) != 0) throw std::invalid_argument(file + ": " + std::strerror(errno));
  run_peer(options, true, raw([&](net::Stream& stream) { return send_raw(stream, file, settings); }, on_session));
}

void run_raw_receiver(const PeerOptions& options, const std::string& file, bool overwrite,
                      const SessionSettings& settings, const OnSession& on_session) {
  run_peer(options, false,
           raw([&](net::Stream& stream) { return receive_raw(stream, file, overwrite, settings); }, on_session));
}

}  // namespace sockit::transfer
