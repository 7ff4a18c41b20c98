// Data-connection addresses on the control connection: PORT and PASV
// (RFC 959, "h1,h2,h3,h4,p1,p2"), EPRT and EPSV (RFC 2428, "|1|addr|port|").
// Parsing checks the syntax only; which addresses are allowed is the
// server's decision.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sockit::codec::ftp {

struct HostPort {
  std::string host;  // dotted IPv4 or IPv6 text, as sent (EPRT) or built (PORT)
  std::uint16_t port = 0;
  bool ipv6 = false;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

// "127,0,0,1,4,1" -> 127.0.0.1:1025. Nothing for anything malformed.
std::optional<HostPort> parse_port(std::string_view arg);
// "|1|127.0.0.1|1025|" or "|2|::1|1025|" (any printable delimiter).
std::optional<HostPort> parse_eprt(std::string_view arg);

// "127,0,0,1,4,1" for a PASV reply; `ipv4` must be dotted IPv4.
std::string format_pasv(std::string_view ipv4, std::uint16_t port);
// "|||1025|" for an EPSV reply.
std::string format_epsv(std::uint16_t port);
// "|1|127.0.0.1|1025|" for a client's EPRT.
std::string format_eprt(const HostPort& address);
// Finds "(h1,...,p2)" in a 227 reply text (clients).
std::optional<HostPort> parse_pasv_reply(std::string_view text);
// Finds "(|||port|)" in a 229 reply text (clients).
std::optional<std::uint16_t> parse_epsv_reply(std::string_view text);

}  // namespace sockit::codec::ftp
