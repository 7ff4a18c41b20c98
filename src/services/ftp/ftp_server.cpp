#include "services/ftp/ftp_server.hpp"

#include "net/listener.hpp"
#include "services/ftp/ftps.hpp"
#include "services/ftp/session.hpp"
#include "services/listener_set.hpp"

#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace sockit::ftp {
namespace asio = boost::asio;

namespace {

asio::awaitable<void> ftp_session(std::shared_ptr<Shared> shared, net::Session session) {
  auto ticket = std::move(session.ticket);  // held until the session ends
  Session ftp(std::move(shared), std::move(session.socket), std::move(session.peer));
  co_await ftp.run();
}

void check_root(const std::string& what, const std::string& root) {
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw std::invalid_argument(what + " root " + root + " is not a directory");
}

class FtpServer final : public services::Service {
 public:
  FtpServer(FtpConfig config) {
    validate(config);
    if (config.create_root && !config.root.empty() && ::mkdir(config.root.c_str(), 0755) != 0 &&
        errno != EEXIST)
      throw std::invalid_argument("cannot create the FTP root " + config.root + ": " + std::strerror(errno));
    auto book = config.accounts_file.empty() ? AccountBook::anonymous_only(config.root)
                                             : AccountBook::load(config.accounts_file, config.root);
    for (const auto& [name, account] : book.users()) check_root("user " + name + ":", account.root);
    if (config.accounts_file.empty()) check_root("the", config.root);
    shared_ = std::make_shared<Shared>(std::move(config), std::move(book));
    shared_->log_name = "ftp." + shared_->config.name;
    start_tls();
    if (!shared_->config.xferlog.empty()) {
      try {
        shared_->xferlog = std::make_unique<TransferLog>(shared_->config.xferlog);
      } catch (const std::runtime_error& e) {
        throw std::invalid_argument(e.what());
      }
    }
  }

  // The one TLS context of this service: control and data connections
  // share it, so data connections can resume the control's session.
  void start_tls() {
    auto& config = shared_->config;
    if (!config.tls()) return;
    if (config.tls_self_signed) {
      auto pair = net::ensure_self_signed(config.tls_dir.empty() ? default_ftp_tls_dir() : config.tls_dir);
      shared_->tls = make_ftps_context(pair.cert_file, pair.key_file);
      spdlog::info("service={} event=tls certificate={} created={} fingerprint={} require_tls={}",
                   shared_->log_name, pair.cert_file, pair.created, pair.fingerprint, config.require_tls);
    } else {
      shared_->tls = make_ftps_context(config.tls_cert, config.tls_key);
      spdlog::info("service={} event=tls certificate={} fingerprint={} require_tls={}", shared_->log_name,
                   config.tls_cert, net::certificate_fingerprint_file(config.tls_cert), config.require_tls);
    }
  }

  ~FtpServer() override {
    // Hashing threads finish what they run before the shared state goes.
    if (shared_) shared_->hashing.join();
  }

  const std::string& name() const override { return shared_->log_name; }
  const services::Counters& counters() const override { return shared_->counters; }
  // STOR copies into the page cache (pwrite) on the session's loop: with one
  // loop fewer than cores, 200 concurrent uploads ran at 0.56x vsftpd.
  net::LoopWork loop_work() const override { return net::LoopWork::files; }
  std::vector<services::BoundAddress> addresses() const override { return addresses_; }

  void start(net::Engine& engine) override {
    const auto& config = shared_->config;
    auto handler = [shared = shared_](net::Session session) {
      return ftp_session(shared, std::move(session));
    };
    listeners_.emplace(shared_->log_name, shared_->counters,
                       services::ListenLimits{config.max_connections, config.max_per_ip, config.backlog},
                       handler, "421 Too many connections; try again later.\r\n");
    for (const auto& text : config.listen) {
      const auto& bound = listeners_->listen(engine, text);
      spdlog::info("service={} event=listening address={} anonymous={} users={} tls={}", shared_->log_name,
                   bound.to_string(), shared_->accounts.anonymous_enabled(), shared_->accounts.users().size(),
                   shared_->tls != nullptr);
      // -k for a self-signed pair: its fingerprint is in the log to compare.
      std::string curl = !shared_->tls                     ? "curl "
                         : shared_->config.tls_self_signed ? "curl --ssl-reqd -k "
                                                           : "curl --ssl-reqd ";
      addresses_.push_back({bound.to_string(), curl + "ftp://" + net::client_address(bound) + "/"});
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

std::unique_ptr<services::Service> make_ftp_server(FtpConfig config) {
  return std::make_unique<FtpServer>(std::move(config));
}

}  // namespace sockit::ftp
