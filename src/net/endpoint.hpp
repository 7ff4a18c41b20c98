// Endpoint: the one way every sockit tool names an address.
//
//   host:port  [v6addr]:port  tcp://host:port  udp://host:port  unix:/path
//
// Parsing is pure (no sockets, no name lookups) so it can be unit-tested and
// fuzzed; resolution happens in the listener or connector that uses it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sockit::net {

enum class Transport { tcp, udp, unix_stream };

struct Endpoint {
  Transport transport = Transport::tcp;
  std::string host;  // empty for unix; IPv6 literals without brackets
  std::uint16_t port = 0;
  std::string path;  // unix socket path

  // Canonical text: tcp://127.0.0.1:7, tcp://[::1]:7, udp://h:7, unix:/p.
  std::string to_string() const;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct EndpointParse {
  std::optional<Endpoint> endpoint;
  std::string error;  // one line naming the bad part, when endpoint is empty
};

// Parses `text`; a text without a scheme gets `default_transport`.
// A unix path must be absolute or start with ./ (a bare word is a host).
EndpointParse parse_endpoint(std::string_view text, Transport default_transport = Transport::tcp);

// Same, but throws std::invalid_argument with the one-line message: for
// start-up configuration, where an error ends the program.
Endpoint parse_endpoint_or_throw(std::string_view text, Transport default_transport = Transport::tcp);

std::string_view transport_name(Transport t);

// A client's server argument with `port` added when it has none: HOST,
// [v6], bare v6 and tcp://HOST get it; HOST:PORT and unix:/path are kept.
std::string with_default_port(const std::string& text, std::uint16_t port);

// How a client on this machine reaches a bound address: a wildcard host
// becomes loopback, and tcp:// (every client's default) is left out.
std::string client_address(const Endpoint& bound);

// True for 127.0.0.0/8, ::1, "localhost" and Unix sockets: addresses only
// this machine can reach.
bool is_local_only(const Endpoint& endpoint);

}  // namespace sockit::net
