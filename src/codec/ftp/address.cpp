#include "codec/ftp/address.hpp"

#include <arpa/inet.h>

#include <array>
#include <charconv>

namespace sockit::codec::ftp {

namespace {

// A decimal number in [0, max] with no sign, no spaces, at most 5 digits.
std::optional<unsigned> number(std::string_view text, unsigned max) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

// (inet_pton reads up to a NUL: "127.0.0.1\0junk" must not pass as 127.0.0.1.)
bool valid_ipv4(const std::string& text) {
  in_addr a{};
  return text.find('\0') == std::string::npos && ::inet_pton(AF_INET, text.c_str(), &a) == 1;
}

bool valid_ipv6(const std::string& text) {
  in6_addr a{};
  return text.find('\0') == std::string::npos && ::inet_pton(AF_INET6, text.c_str(), &a) == 1;
}

}  // namespace

std::optional<HostPort> parse_port(std::string_view arg) {
  std::array<unsigned, 6> parts{};
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto comma = arg.find(',');
    if ((comma == std::string_view::npos) != (i == parts.size() - 1)) return std::nullopt;
    auto value = number(arg.substr(0, comma), 255);
    if (!value) return std::nullopt;
    parts[i] = *value;
    arg = comma == std::string_view::npos ? std::string_view() : arg.substr(comma + 1);
  }
  HostPort address;
  address.host = std::to_string(parts[0]) + "." + std::to_string(parts[1]) + "." + std::to_string(parts[2]) +
                 "." + std::to_string(parts[3]);
  address.port = static_cast<std::uint16_t>(parts[4] * 256 + parts[5]);
  return address;
}

std::optional<HostPort> parse_eprt(std::string_view arg) {
  if (arg.size() < 7) return std::nullopt;
  char d = arg.front();
  if (d < 33 || d > 126 || arg.back() != d) return std::nullopt;
  arg = arg.substr(1, arg.size() - 2);  // "1|addr|port"
  auto first = arg.find(d);
  if (first == std::string_view::npos) return std::nullopt;
  auto second = arg.find(d, first + 1);
  if (second == std::string_view::npos || arg.find(d, second + 1) != std::string_view::npos)
    return std::nullopt;
  auto family = arg.substr(0, first);
  HostPort address;
  address.host = std::string(arg.substr(first + 1, second - first - 1));
  auto port = number(arg.substr(second + 1), 65535);
  if (!port) return std::nullopt;
  address.port = static_cast<std::uint16_t>(*port);
  if (family == "1" && valid_ipv4(address.host)) return address;
  if (family == "2" && valid_ipv6(address.host)) {
    address.ipv6 = true;
    return address;
  }
  return std::nullopt;
}

std::string format_pasv(std::string_view ipv4, std::uint16_t port) {
  std::string out(ipv4);
  for (char& c : out)
    if (c == '.') c = ',';
  return out + "," + std::to_string(port / 256) + "," + std::to_string(port % 256);
}

std::string format_epsv(std::uint16_t port) {
  return "|||" + std::to_string(port) + "|";
}

std::string format_eprt(const HostPort& address) {
  return std::string("|") + (address.ipv6 ? "2" : "1") + "|" + address.host + "|" +
         std::to_string(address.port) + "|";
}

std::optional<HostPort> parse_pasv_reply(std::string_view text) {
  auto open = text.find('(');
  auto close = text.find(')', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos) return std::nullopt;
  return parse_port(text.substr(open + 1, close - open - 1));
}

std::optional<std::uint16_t> parse_epsv_reply(std::string_view text) {
  auto open = text.find("(|||");
  if (open == std::string_view::npos) return std::nullopt;
  auto rest = text.substr(open + 4);
  auto close = rest.find("|)");
  if (close == std::string_view::npos) return std::nullopt;
  auto port = number(rest.substr(0, close), 65535);
  if (!port || *port == 0) return std::nullopt;
  return static_cast<std::uint16_t>(*port);
}

}  // namespace sockit::codec::ftp
