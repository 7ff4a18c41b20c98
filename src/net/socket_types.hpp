// The socket types services use. TCP and Unix stream sockets share one type
// (Asio's generic stream protocol), so a service's session code is written
// once for both.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/udp.hpp>

#include <string>

namespace sockit::net {

using StreamSocket = boost::asio::generic::stream_protocol::socket;
using StreamEndpoint = boost::asio::generic::stream_protocol::endpoint;
using UdpSocket = boost::asio::ip::udp::socket;

// "1.2.3.4:5", "[::1]:5" or "unix" for a peer; the IP alone for limits.
std::string describe_peer(const StreamEndpoint& peer);
std::string peer_ip(const StreamEndpoint& peer);
std::string describe_peer(const boost::asio::ip::udp::endpoint& peer);

// True once the peer closed or reset the connection, even while data it sent
// earlier is still unread (poll's POLLRDHUP): for a session that has stopped
// reading on purpose and would otherwise not notice.
bool peer_hung_up(StreamSocket& socket);

}  // namespace sockit::net
