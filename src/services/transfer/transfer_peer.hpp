// A transfer peer: either side (sender or receiver) either connects or
// listens. This makes the connection (TLS when asked), exchanges HELLO and
// ROLE (docs/protocol/transfer.md), and runs the side's half.
#pragma once

#include "services/server_identity.hpp"
#include "services/transfer/transfer_session.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace sockit::transfer {

using codec::transfer::kDefaultPort;

struct PeerOptions {
  std::string connect;          // HOST[:PORT] of a listening peer, or
  std::string listen;           // the address to listen on
  bool keep_listening = false;  // listening: serve sessions until killed
  bool print_address = false;   // listening: the bound address on stdout
  // TLS. The listening side serves a self-signed pair kept in tls_dir and
  // prints its fingerprint; the connecting side checks it (trust).
  bool tls = false;
  std::string tls_dir;  // empty: state_dir()/transfer-tls
  services::TrustOptions trust;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::string program = "sockit";  // for the hint printed when listening
};

struct SessionOutcome {
  std::string peer;
  std::optional<Summary> summary;  // empty when the session failed
  std::string failure;             // why, then
};
using OnSession = std::function<void(const SessionOutcome&)>;

// Each runs until the one session ends (connecting, or listening once) or,
// with keep_listening, until killed. Set-up errors throw (net::ConnectError,
// net::StartupError, services::IdentityError, std::invalid_argument).
void run_sender(const PeerOptions& options, const SourceList& sources, const SessionSettings& settings,
                const OnSession& on_session);
void run_receiver(const PeerOptions& options, Destination& destination, const SessionSettings& settings,
                  const OnSession& on_session);

// --raw: a plain byte stream, for nc and socat on the other side. One file,
// no names, no checksum, no resume; still written to a part name and renamed
// only at a clean end of stream.
void run_raw_sender(const PeerOptions& options, const std::string& file, const SessionSettings& settings,
                    const OnSession& on_session);
void run_raw_receiver(const PeerOptions& options, const std::string& file, bool overwrite,
                      const SessionSettings& settings, const OnSession& on_session);

}  // namespace sockit::transfer
