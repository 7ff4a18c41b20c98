// Who is at the other end of a TLS connection we opened: a CA-verified name
// (--cacert), a pinned fingerprint (--fingerprint), or trust on first use
// recorded in known_hosts, as ssh does. Shared by every sockit client.
#pragma once

#include "net/endpoint.hpp"

#include <stdexcept>
#include <string>

namespace sockit::net {
class Stream;
}

namespace sockit::services {

struct TrustOptions {
  std::string fingerprint;  // pinned: hex, colons optional
  std::string cacert;       // OpenSSL verified chain and name already
  std::string known_hosts;  // empty: default_known_hosts()
};

// The server is not who it should be. One line for humans.
struct IdentityError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// After a client handshake on `stream`. `at_stake` ends the refusal message:
// "refusing to send the token". Throws IdentityError, or
// std::invalid_argument for a malformed --fingerprint.
void verify_server_identity(const net::Endpoint& endpoint, net::Stream& stream, const TrustOptions& trust,
                            const std::string& at_stake);

}  // namespace sockit::services
