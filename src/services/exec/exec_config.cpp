#include "services/exec/exec_config.hpp"

#include "net/endpoint.hpp"
#include "services/state_dir.hpp"

#include <cstdlib>
#include <stdexcept>

namespace sockit::exec {

std::string default_tls_dir() {
  auto dir = services::state_dir();
  return (dir.empty() ? std::string("./sockit") : dir) + "/exec-tls";
}

void validate(const ExecConfig& config) {
  if (config.listen.empty()) throw std::invalid_argument("no address to listen on");
  bool tls = config.tls_self_signed || !config.tls_cert.empty();
  if (config.tls_self_signed && !config.tls_cert.empty())
    throw std::invalid_argument("give either --tls-self-signed or --tls-cert/--tls-key, not both");
  if (config.tls_cert.empty() != config.tls_key.empty())
    throw std::invalid_argument("--tls-cert and --tls-key go together");
  for (const auto& text : config.listen) {
    auto endpoint = net::parse_endpoint_or_throw(text, net::Transport::tcp);
    if (endpoint.transport == net::Transport::udp)
      throw std::invalid_argument("listen address '" + text +
                                  "': exec runs over TCP or a Unix socket, not UDP");
    if (!tls && !net::is_local_only(endpoint))
      throw std::invalid_argument("listen address '" + text +
                                  "' is reachable from other machines: it needs TLS (--tls-self-signed, "
                                  "or --tls-cert and --tls-key)");
  }
  if (config.token.empty())
    throw std::invalid_argument(
        "no token: give --token-file FILE or set SOCKIT_TOKEN (never on the command line)");
  if (config.token.size() < kMinTokenLength)
    throw std::invalid_argument("the token is " + std::to_string(config.token.size()) + " bytes; use " +
                                std::to_string(kMinTokenLength) +
                                " or more (e.g. head -c 32 /dev/urandom | base64 > FILE)");
  if (!config.allow.empty() && config.shell)
    throw std::invalid_argument("--allow needs --no-shell: a shell command line can run any program");
  if (config.max_frame < 64 * 1024 + 16)
    throw std::invalid_argument("max_frame must be at least 65552 bytes");
}

}  // namespace sockit::exec
