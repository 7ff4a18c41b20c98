#include "net/endpoint.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace sockit::net {
namespace {

constexpr std::size_t kMaxUnixPath = 107;  // sizeof(sockaddr_un::sun_path) - 1
constexpr std::size_t kMaxHostName = 253;

EndpointParse fail(std::string message) {
  return {std::nullopt, std::move(message)};
}

bool valid_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_';
}

bool valid_v6_char(char c) {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' || c == '.' ||
         c == '%' || (c >= 'g' && c <= 'z');  // %scope names
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::string quoted(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      out += '?';  // keep the error one line
    else
      out += c;
  }
  return out + "'";
}

EndpointParse parse_unix(std::string_view path, std::string_view original) {
  if (path.empty()) return fail("unix socket path is empty in " + quoted(original));
  if (path.size() > kMaxUnixPath)
    return fail("unix socket path is longer than 107 bytes: " + quoted(original));
  if (path.find('\0') != std::string_view::npos) return fail("unix socket path contains a NUL byte");
  Endpoint e;
  e.transport = Transport::unix_stream;
  e.path = std::string(path);
  return {e, {}};
}

EndpointParse parse_host_port(std::string_view rest, Transport transport, std::string_view original) {
  std::string_view host;
  std::string_view port_text;
  if (rest.starts_with('[')) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return fail("missing ']' after IPv6 address in " + quoted(original));
    host = rest.substr(1, close - 1);
    auto after = rest.substr(close + 1);
    if (!after.starts_with(':')) return fail("missing ':port' after ']' in " + quoted(original));
    port_text = after.substr(1);
    if (host.find(':') == std::string_view::npos)
      return fail("brackets are for IPv6 addresses, not " + quoted(host));
    for (char c : host)
      if (!valid_v6_char(c)) return fail("bad IPv6 address " + quoted(host));
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos)
      return fail("missing ':port' in " + quoted(original) + " (write host:port)");
    host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return fail("IPv6 address needs brackets: write [host]:port, not " + quoted(original));
    if (host.empty()) return fail("missing host in " + quoted(original));
    if (host.size() > kMaxHostName) return fail("host name too long in " + quoted(original));
    for (char c : host)
      if (!valid_host_char(c)) return fail("bad host name " + quoted(host));
  }
  auto port = parse_port(port_text);
  if (!port) return fail("bad port " + quoted(port_text) + " (expected 0-65535)");
  Endpoint e;
  e.transport = transport;
  e.host = std::string(host);
  e.port = *port;
  return {e, {}};
}

}  // namespace

std::string_view transport_name(Transport t) {
  switch (t) {
    case Transport::tcp:
      return "tcp";
    case Transport::udp:
      return "udp";
    case Transport::unix_stream:
      return "unix";
  }
  return "?";
}

std::string Endpoint::to_string() const {
  if (transport == Transport::unix_stream) return "unix:" + path;
  std::string out(transport_name(transport));
  out += "://";
  if (host.find(':') != std::string::npos)
    out += "[" + host + "]";
  else
    out += host;
  out += ":" + std::to_string(port);
  return out;
}

EndpointParse parse_endpoint(std::string_view text, Transport default_transport) {
  if (text.empty()) return fail("empty address (expected host:port or unix:/path)");
  if (text.starts_with("unix:")) return parse_unix(text.substr(5), text);
  if (text.starts_with("tcp://")) return parse_host_port(text.substr(6), Transport::tcp, text);
  if (text.starts_with("udp://")) return parse_host_port(text.substr(6), Transport::udp, text);
  if (auto scheme = text.find("://"); scheme != std::string_view::npos)
    return fail("unknown scheme " + quoted(text.substr(0, scheme)) + " (use tcp, udp or unix)");
  if (text.starts_with('/') || text.starts_with("./")) return parse_unix(text, text);
  if (default_transport == Transport::unix_stream) return parse_unix(text, text);
  return parse_host_port(text, default_transport, text);
}

Endpoint parse_endpoint_or_throw(std::string_view text, Transport default_transport) {
  auto parsed = parse_endpoint(text, default_transport);
  if (!parsed.endpoint) throw std::invalid_argument(parsed.error);
  return *parsed.endpoint;
}

std::string client_address(const Endpoint& bound) {
  Endpoint reach = bound;
  if (reach.host == "0.0.0.0") reach.host = "127.0.0.1";
  if (reach.host == "::") reach.host = "::1";
  std::string address = reach.to_string();  // tcp://h:p, udp://h:p, unix:/p
  if (reach.transport == Transport::tcp) address.erase(0, 6);
  return address;
}

bool is_local_only(const Endpoint& endpoint) {
  if (endpoint.transport == Transport::unix_stream) return true;
  const std::string& host = endpoint.host;
  return host == "localhost" || host == "::1" ||
         (host.starts_with("127.") && host.find_first_not_of("0123456789.") == std::string::npos);
}

std::string with_default_port(const std::string& text, std::uint16_t port) {
  if (text.starts_with("unix:") || text.starts_with("/") || text.starts_with("./")) return text;
  std::string rest = text.starts_with("tcp://") ? text.substr(6) : text;
  bool has_port = rest.starts_with("[") ? rest.find("]:") != std::string::npos
                                        : std::count(rest.begin(), rest.end(), ':') == 1;
  if (has_port) return text;
  bool bare_v6 = !rest.starts_with("[") && rest.find(':') != std::string::npos;
  return (bare_v6 ? "[" + rest + "]" : text) + ":" + std::to_string(port);
}

}  // namespace sockit::net
