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

// Transfers a --keep-listening peer runs at once.
constexpr std::size_t kMaxListeningSessions = 16;

using Body = std::function<awaitable<Summary>(services::FrameConnection&, const RoleMessage& theirs,
                                              const SessionSettings&)>;

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
// it is (the listening end waits for the peer's first byte). Yields false
// when the peer turned out not to be a transfer peer at all (nc typing at
// the port): a listener waiting for one transfer goes on waiting.
using StreamHandler = std::function<awaitable<bool>(net::Stream, std::string peer, bool listening)>;

void run_connecting(const PeerOptions& options, const StreamHandler& handler) {
  auto endpoint = net::parse_endpoint_or_throw(net::with_default_port(options.connect, kDefaultPort));
  if (endpoint.transport == net::Transport::udp)
    throw std::invalid_argument("transfers run over TCP, not UDP");
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
  if (endpoint.transport == net::Transport::udp)
    throw std::invalid_argument("transfers run over TCP, not UDP");
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
  // --keep-listening serves peers side by side (a second sender neither
  // waits for the first nor times out waiting); otherwise the one transfer
  // is all, and a peer arriving during it is told so.
  auto limiter = options.keep_listening
                     ? std::make_shared<net::ConnectionLimiter>(kMaxListeningSessions, kMaxListeningSessions)
                     : std::make_shared<net::ConnectionLimiter>(1, 1);
  listen_options.refusal.clear();
  codec::append_frame(
      listen_options.refusal, +codec::FrameType::error,
      codec::error_payload(codec::ErrorCode::busy, options.keep_listening
                                                       ? "too many transfers at once; try again later"
                                                       : "busy with another transfer"));
  auto listener = net::StreamListener::bind(engine, endpoint, listen_options);
  const auto& bound = listener->bound();
  if (options.print_address) {
    fmt::print("{}\n", bound.to_string());
    std::fflush(stdout);
  }
  fmt::print(stderr, "sockit {}: listening on {}{}; on the other machine run: {} {}{} THIS-HOST:{}\n",
             listen_options.log_name, bound.to_string(), options.tls ? " (TLS)" : "", options.program,
             sending ? "recv" : "send", options.tls ? " --tls --fingerprint " + fingerprint : "", bound.port);
  auto on_connection = [&, tls](net::Session session) -> awaitable<void> {
    bool transferred = false;
    if (tls) {
      net::Stream stream(std::move(session.socket), *tls);
      error_code ec;
      co_await stream.handshake_server(ec);
      if (ec) {
        fmt::print(stderr, "sockit {}: TLS handshake with {} failed: {}; still listening\n",
                   listen_options.log_name, session.peer, ec.message());
        co_return;
      }
      transferred = co_await handler(std::move(stream), session.peer, true);
    } else {
      transferred = co_await handler(net::Stream(std::move(session.socket)), session.peer, true);
    }
    if (transferred && !options.keep_listening) {
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

// Sessions of one listening peer that run at once share its progress bar:
// the first to start shows progress, the others only their summary.
class ProgressTurn {
 public:
  explicit ProgressTurn(Progress* progress) : progress_(progress) {}
  Progress* take() {
    if (taken_) return nullptr;
    taken_ = true;
    return progress_;
  }
  void give_back(Progress* progress) {
    if (progress) taken_ = false;
  }

 private:
  Progress* progress_;
  bool taken_ = false;
};

// A framed session (HELLO, ROLE, then `body`), reported to on_session.
StreamHandler framed(const RoleMessage& mine, const SessionSettings& settings, Body body,
                     const OnSession& on_session) {
  auto turn = std::make_shared<ProgressTurn>(settings.progress);
  return [=, &settings, &on_session](net::Stream stream, std::string peer,
                                     bool listening) -> awaitable<bool> {
    services::FrameConnection connection(std::move(stream), kMaxFramePayload);
    const char* side = mine.role == Role::sender ? "send" : "recv";
    if (listening && !connection.stream().is_tls()) {
      // Someone typing at the port with nc is told what this is.
      error_code ec;
      bool frames = co_await connection.first_byte_is(+codec::FrameType::hello, ec);
      if (ec) co_return false;
      if (!frames) {
        std::span<const char> piece(kNotFrames.data(), kNotFrames.size());
        co_await connection.stream().write(std::span(&piece, 1), ec);
        fmt::print(stderr,
                   "sockit {}: {} does not speak the transfer protocol (nc?); told it so; still listening\n",
                   side, peer);
        co_return false;
      }
    }
    SessionSettings mine_now = settings;
    mine_now.progress = turn->take();
    auto started = std::chrono::steady_clock::now();
    std::optional<Summary> summary;
    std::exception_ptr error;
    try {
      auto theirs = co_await net::within(settings.stall_timeout, exchange_roles(connection, mine));
      if (!theirs) throw TransferFailure("the peer did not answer the handshake in time");
      summary = co_await body(connection, *theirs, mine_now);
      summary->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    } catch (...) {
      error = std::current_exception();
    }
    turn->give_back(mine_now.progress);
    report(on_session, peer, error, std::move(summary));
    co_return true;
  };
}

}  // namespace

void run_sender(const PeerOptions& options, const SourceList& sources, const SessionSettings& settings,
                const OnSession& on_session) {
  RoleMessage mine{Role::sender, settings.digest, sources.files, sources.bytes};
  auto body = [&](services::FrameConnection& connection, const RoleMessage&, const SessionSettings& session) {
    return send_files(connection, sources, session);
  };
  run_peer(options, true, framed(mine, settings, body, on_session));
}

void run_receiver(const PeerOptions& options, Destination& destination, const SessionSettings& settings,
                  const OnSession& on_session) {
  RoleMessage mine{Role::receiver, DigestKind::none, 0, 0};
  auto body = [&](services::FrameConnection& connection, const RoleMessage& theirs,
                  const SessionSettings& session) {
    return receive_files(connection, destination, theirs, session);
  };
  run_peer(options, false, framed(mine, settings, body, on_session));
}

namespace {

awaitable<Summary> send_raw(net::Stream& stream, const std::string& file, const SessionSettings& settings) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
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
    if (ec)
      throw TransferFailure("connection lost after " + std::to_string(summary.bytes) +
                            " bytes: " + ec.message() + "; nothing saved as " + file);
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
  if (auto ec = destination.commit(name, part.get(), 0666 & ~mask, now.tv_sec,
                                   static_cast<std::uint32_t>(now.tv_nsec))) {
    destination.remove_part(name);
    throw TransferFailure(
        "cannot save " + file + ": " +
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
  return [=, &on_session](net::Stream stream, std::string peer, bool) -> awaitable<bool> {
    auto started = std::chrono::steady_clock::now();
    std::optional<Summary> summary;
    std::exception_ptr error;
    try {
      summary = co_await body(stream);
      summary->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    } catch (...) {
      error = std::current_exception();
    }
    report(on_session, peer, error, std::move(summary));
    co_return true;
  };
}

}  // namespace

void run_raw_sender(const PeerOptions& options, const std::string& file, const SessionSettings& settings,
                    const OnSession& on_session) {
  if (::access(file.c_str(), R_OK) != 0) throw std::invalid_argument(file + ": " + std::strerror(errno));
  run_peer(options, true,
           raw([&](net::Stream& stream) { return send_raw(stream, file, settings); }, on_session));
}

void run_raw_receiver(const PeerOptions& options, const std::string& file, bool overwrite,
                      const SessionSettings& settings, const OnSession& on_session) {
  run_peer(
      options, false,
      raw([&](net::Stream& stream) { return receive_raw(stream, file, overwrite, settings); }, on_session));
}

}  // namespace sockit::transfer
