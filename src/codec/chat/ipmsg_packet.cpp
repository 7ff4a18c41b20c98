#include "codec/chat/ipmsg_packet.hpp"

#include <array>
#include <charconv>
#include <limits>

namespace sockit::codec::chat {
namespace {

template <typename Number>
std::optional<Number> parse_decimal(std::string_view text) {
  // Digits only: from_chars would also take a leading '-' for signed types,
  // and we want "+1" or " 1" to make the datagram plain text.
  if (text.empty() || text.size() > std::numeric_limits<Number>::digits10 + 1) return std::nullopt;
  for (char c : text)
    if (c < '0' || c > '9') return std::nullopt;
  Number value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool acceptable_name(std::string_view field) {
  return field.size() <= kMaxNameBytes && field.find('\0') == std::string_view::npos;
}

}  // namespace

std::optional<Packet> parse_packet(std::string_view datagram) {
  std::array<std::string_view, 5> fields;
  std::size_t start = 0;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    auto colon = datagram.find(':', start);
    if (colon == std::string_view::npos) {
      if (i != fields.size() - 1) return std::nullopt;
      fields[i] = datagram.substr(start);
      start = datagram.size();
      break;
    }
    fields[i] = datagram.substr(start, colon - start);
    start = colon + 1;
  }
  auto version = fields[0];
  if (version.size() > kMaxVersionBytes || !(version == "1" || version.starts_with("1_")))
    return std::nullopt;
  if (version.find('\0') != std::string_view::npos) return std::nullopt;
  auto number = parse_decimal<std::uint64_t>(fields[1]);
  auto command = parse_decimal<std::uint32_t>(fields[4]);
  if (!number || !command || !acceptable_name(fields[2]) || !acceptable_name(fields[3])) return std::nullopt;
  Packet packet;
  packet.version = std::string(version);
  packet.number = *number;
  packet.user = std::string(fields[2]);
  packet.host = std::string(fields[3]);
  packet.command = *command;
  packet.extra = std::string(datagram.substr(start));
  return packet;
}

std::string build_packet(const Packet& packet) {
  std::string out;
  out.reserve(packet.version.size() + packet.user.size() + packet.host.size() + packet.extra.size() + 40);
  out += packet.version;
  out += ':';
  out += std::to_string(packet.number);
  out += ':';
  out += packet.user;
  out += ':';
  out += packet.host;
  out += ':';
  out += std::to_string(packet.command);
  out += ':';
  out += packet.extra;
  return out;
}

ExtraParts split_extra(std::string_view extra) {
  auto nul = extra.find('\0');
  if (nul == std::string_view::npos) return {extra, {}};
  return {extra.substr(0, nul), extra.substr(nul + 1)};
}

}  // namespace sockit::codec::chat
