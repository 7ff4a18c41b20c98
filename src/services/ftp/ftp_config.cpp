#include "services/ftp/ftp_config.hpp"

#include "net/endpoint.hpp"
#include "services/state_dir.hpp"

#include <charconv>
#include <stdexcept>

namespace sockit::ftp {

void parse_port_range(const std::string& text, FtpConfig& config) {
  auto fail = [&] {
    throw std::invalid_argument("passive port range '" + text +
                                "' is not MIN-MAX with 1024 <= MIN <= MAX <= 65535");
  };
  auto dash = text.find('-');
  if (dash == std::string::npos) fail();
  unsigned min = 0, max = 0;
  auto [a, e1] = std::from_chars(text.data(), text.data() + dash, min);
  auto [b, e2] = std::from_chars(text.data() + dash + 1, text.data() + text.size(), max);
  if (e1 != std::errc() || e2 != std::errc() || a != text.data() + dash || b != text.data() + text.size())
    fail();
  if (min < 1024 || max > 65535 || min > max) fail();
  config.passive_min = static_cast<std::uint16_t>(min);
  config.passive_max = static_cast<std::uint16_t>(max);
}

std::string default_ftp_tls_dir() {
  auto dir = services::state_dir();
  return (dir.empty() ? std::string("./sockit") : dir) + "/ftp-tls";
}

void validate(const FtpConfig& config) {
  if (config.listen.empty()) throw std::invalid_argument("ftp." + config.name + ": no address to listen on");
  for (const auto& text : config.listen) {
    auto endpoint = net::parse_endpoint_or_throw(text, net::Transport::tcp);
    if (endpoint.transport != net::Transport::tcp)
      throw std::invalid_argument("ftp listens on TCP only, not '" + text + "'");
  }
  if (config.root.empty() && config.accounts_file.empty())
    throw std::invalid_argument("give --root DIR (the folder to share) or --accounts FILE");
  if (config.passive_min < 1024 || config.passive_min > config.passive_max)
    throw std::invalid_argument("passive ports must be a range within 1024-65535");
  if (config.max_line < 64 || config.max_line > 65536)
    throw std::invalid_argument("max_line must be between 64 and 65536 bytes");
  if (config.max_login_failures == 0) throw std::invalid_argument("max_login_failures must be at least 1");
  if (config.backlog <= 0) throw std::invalid_argument("backlog must be positive");
  if (config.tls_self_signed && !config.tls_cert.empty())
    throw std::invalid_argument("give either --tls (a self-signed pair) or --tls-cert/--tls-key, not both");
  if (config.tls_cert.empty() != config.tls_key.empty())
    throw std::invalid_argument("--tls-cert and --tls-key go together");
  if (config.require_tls && !config.tls())
    throw std::invalid_argument("--require-tls needs TLS: add --tls, or --tls-cert and --tls-key");
  if (config.plain_anonymous && !config.require_tls)
    throw std::invalid_argument("--plain-anonymous only makes sense with --require-tls");
}

}  // namespace sockit::ftp
