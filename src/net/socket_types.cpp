#include "net/socket_types.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/un.h>

#include <fmt/format.h>

namespace sockit::net {
namespace {

std::string ip_text(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(address);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
  } else if (address->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
  }
  return text;
}

}  // namespace

std::string peer_ip(const StreamEndpoint& peer) {
  auto* address = static_cast<const sockaddr*>(peer.data());
  if (address->sa_family != AF_INET && address->sa_family != AF_INET6) return {};
  return ip_text(address);
}

std::string describe_peer(const StreamEndpoint& peer) {
  auto* address = static_cast<const sockaddr*>(peer.data());
  if (address->sa_family == AF_INET)
    return fmt::format("{}:{}", ip_text(address),
                       ntohs(reinterpret_cast<const sockaddr_in*>(address)->sin_port));
  if (address->sa_family == AF_INET6)
    return fmt::format("[{}]:{}", ip_text(address),
                       ntohs(reinterpret_cast<const sockaddr_in6*>(address)->sin6_port));
  return "unix";
}

std::string describe_peer(const boost::asio::ip::udp::endpoint& peer) {
  if (peer.address().is_v6()) return fmt::format("[{}]:{}", peer.address().to_string(), peer.port());
  return fmt::format("{}:{}", peer.address().to_string(), peer.port());
}

bool peer_hung_up(StreamSocket& socket) {
  pollfd entry{socket.native_handle(), POLLRDHUP, 0};
  return ::poll(&entry, 1, 0) == 1 && (entry.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

}  // namespace sockit::net
