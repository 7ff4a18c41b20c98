#include "services/server_identity.hpp"

#include "net/stream.hpp"
#include "net/tls.hpp"
#include "services/known_hosts.hpp"

#include <fmt/format.h>

namespace sockit::services {

void verify_server_identity(const net::Endpoint& endpoint, net::Stream& stream, const TrustOptions& trust,
                            const std::string& at_stake) {
  if (!trust.cacert.empty()) return;  // OpenSSL verified the chain and the name
  auto seen = stream.peer_fingerprint();
  if (!seen) throw IdentityError("the server sent no certificate");
  if (!trust.fingerprint.empty()) {
    auto pinned = net::normalize_fingerprint(trust.fingerprint);
    if (!pinned) throw std::invalid_argument("--fingerprint: expected 32 bytes of hex (64 digits, colons optional)");
    if (*pinned != *seen)
      throw IdentityError("the server's certificate fingerprint is " + *seen + ", not the pinned " + *pinned +
                          ": " + at_stake);
    return;
  }
  std::string file = trust.known_hosts.empty() ? default_known_hosts() : trust.known_hosts;
  std::string host_port = net::client_address(endpoint);
  auto result = check_known_host(file, host_port, *seen);
  if (result.check == HostCheck::changed)
    throw IdentityError("the certificate of " + host_port + " has CHANGED (recorded " + result.recorded_fingerprint +
                        ", now " + *seen +
                        "); someone may be intercepting. If the server's key was replaced on purpose, "
                        "remove its line from " +
                        file);
  if (result.check == HostCheck::recorded)
    fmt::print(stderr, "sockit: first connection to {}: trusting its certificate {} (recorded in {})\n", host_port,
               *seen, file);
}

}  // namespace sockit::services
