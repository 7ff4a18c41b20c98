#include "services/transfer/drop_folder.hpp"

#include "codec/frame.hpp"
#include "net/listener.hpp"
#include "net/stream.hpp"
#include "net/tls.hpp"
#include "net/within.hpp"
#include "services/listener_set.hpp"
#include "services/state_dir.hpp"
#include "services/transfer/destination.hpp"
#include "services/transfer/handshake.hpp"
#include "services/transfer/transfer_session.hpp"

#include <spdlog/spdlog.h>

#include <optional>

namespace sockit::transfer {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;
using namespace codec::transfer;

namespace {

struct Shared {
  DropFolderConfig config;
  std::string log_name;
  std::shared_ptr<net::TlsContext> tls;
  services::Counters counters;
};

awaitable<void> receive_session(std::shared_ptr<Shared> shared, net::Session session) {
  auto& counters = shared->counters;
  services::Counters::add(counters.connections);
  services::Counters::add(counters.active);
  const auto& config = shared->config;
  auto stream = shared->tls ? net::Stream(std::move(session.socket), *shared->tls)
                            : net::Stream(std::move(session.socket));
  services::FrameConnection connection(std::move(stream), kMaxFramePayload);
  auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(config.stall_timeout);
  try {
    error_code ec;
    if (shared->tls) {
      co_await connection.stream().handshake_server(ec);
      if (ec) throw TransferFailure("TLS handshake failed: " + ec.message());
    } else {
      bool frames = co_await connection.first_byte_is(+codec::FrameType::hello, ec);
      if (ec) throw TransferFailure("connection lost: " + ec.message());
      if (!frames) {
        std::span<const char> piece(kNotFrames.data(), kNotFrames.size());
        co_await connection.stream().write(std::span(&piece, 1), ec);
        throw TransferFailure("not a transfer peer");
      }
    }
    RoleMessage mine{Role::receiver, DigestKind::none, 0, 0};
    auto theirs = co_await net::within(limit, exchange_roles(connection, mine));
    if (!theirs) throw TransferFailure("no handshake in time");
    // Each session has its own view of the directory (it caches a parent
    // descriptor); part-file locks keep two senders of one name apart.
    Destination destination(config.dir, config.overwrite);
    SessionSettings settings;
    settings.stall_timeout = limit;
    auto summary = co_await receive_files(connection, destination, *theirs, settings);
    spdlog::info(
        "peer={} service={} event=received saved={} unchanged={} failed={} bytes={} resumed_bytes={}",
        session.peer, shared->log_name, summary.saved, summary.unchanged, summary.failed, summary.bytes,
        summary.resumed_bytes);
    for (const auto& failure : summary.failures)
      spdlog::warn("peer={} service={} event=file_failed detail=\"{}\"", session.peer, shared->log_name,
                   failure);
  } catch (const std::exception& e) {
    services::Counters::add(counters.errors);
    spdlog::info("peer={} service={} event=session_failed error=\"{}\"", session.peer, shared->log_name,
                 e.what());
  }
  services::Counters::add(counters.bytes_in, connection.bytes_read());
  services::Counters::add(counters.bytes_out, connection.bytes_written());
  counters.active.fetch_sub(1, std::memory_order_relaxed);
}

class DropFolder final : public services::Service {
 public:
  explicit DropFolder(DropFolderConfig config) : shared_(std::make_shared<Shared>()) {
    shared_->config = std::move(config);
    shared_->log_name = "recv." + shared_->config.name;
    if (shared_->config.listen.empty())
      shared_->config.listen = {"127.0.0.1:" + std::to_string(codec::transfer::kDefaultPort)};
    if (shared_->config.dir.empty()) throw std::invalid_argument(shared_->log_name + ": dir is required");
  }

  const std::string& name() const override { return shared_->log_name; }
  const services::Counters& counters() const override { return shared_->counters; }
  std::vector<services::BoundAddress> addresses() const override { return addresses_; }

  void start(net::Engine& engine) override {
    auto& config = shared_->config;
    Destination check(config.dir, config.overwrite);  // fails now, not at the first sender
    std::string fingerprint;
    if (config.tls_self_signed) {
      auto pair = net::ensure_self_signed(config.tls_dir.empty() ? services::state_dir() + "/transfer-tls"
                                                                 : config.tls_dir);
      shared_->tls = net::make_server_tls(pair.cert_file, pair.key_file);
      fingerprint = pair.fingerprint;
      spdlog::info("service={} event=tls fingerprint={}", shared_->log_name, fingerprint);
    }
    std::string refusal;
    codec::append_frame(
        refusal, +codec::FrameType::error,
        codec::error_payload(codec::ErrorCode::busy, "too many transfers at once; try again later"));
    auto handler = [shared = shared_](net::Session session) {
      return receive_session(shared, std::move(session));
    };
    listeners_.emplace(shared_->log_name, shared_->counters,
                       services::ListenLimits{config.max_connections, config.max_per_ip}, handler, refusal);
    for (const auto& text : config.listen) {
      const auto& bound = listeners_->listen(engine, text);
      spdlog::info("service={} event=listening address={} dir={} tls={}", shared_->log_name,
                   bound.to_string(), config.dir, shared_->tls != nullptr);
      std::string pin = fingerprint.empty() ? "" : "--tls --fingerprint " + fingerprint + " ";
      addresses_.push_back(
          {bound.to_string(), "sockit send " + pin + net::client_address(bound) + " FILE..."});
    }
  }

  void stop() override {
    if (listeners_) listeners_->stop();
  }

 private:
  std::shared_ptr<Shared> shared_;
  std::optional<services::ListenerSet> listeners_;
  std::vector<services::BoundAddress> addresses_;
};

}  // namespace

std::unique_ptr<services::Service> make_drop_folder(DropFolderConfig config) {
  return std::make_unique<DropFolder>(std::move(config));
}

}  // namespace sockit::transfer
