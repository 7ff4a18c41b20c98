// Stream: a connected byte stream, plain or TLS, behind one interface so a
// protocol session is written once for both. Asio's SSL headers stay in
// stream.cpp.
#pragma once

#include "net/socket_types.hpp"
#include "net/tls.hpp"

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

struct ssl_st;  // OpenSSL's SSL

namespace sockit::net {

class Stream {
 public:
  explicit Stream(StreamSocket socket);          // plain
  Stream(StreamSocket socket, TlsContext& tls);  // TLS: handshake() before anything else
  Stream(Stream&&) noexcept;
  Stream& operator=(Stream&&) noexcept;
  ~Stream();

  bool is_tls() const;
  // TLS only. `server_name` (client side) is sent as SNI and, with a CA
  // context, checked against the certificate.
  boost::asio::awaitable<void> handshake_server(boost::system::error_code& ec);
  boost::asio::awaitable<void> handshake_client(const std::string& server_name,
                                                boost::system::error_code& ec);
  // The peer certificate's fingerprint (fingerprint_text form), after a
  // client handshake.
  std::optional<std::string> peer_fingerprint() const;

  boost::asio::awaitable<std::size_t> read_some(std::span<char> into, boost::system::error_code& ec);
  // Writes every piece, in order (one gather write where possible).
  boost::asio::awaitable<void> write(std::span<const std::span<const char>> pieces,
                                     boost::system::error_code& ec);

  // Plain streams only: `length` bytes of the file `fd` from `offset` with
  // sendfile(2), from the page cache without a copy through user space.
  // How many were sent: fewer than `length` if the file ended first.
  boost::asio::awaitable<std::size_t> send_file(int fd, std::uint64_t offset, std::size_t length,
                                                boost::system::error_code& ec);

  StreamSocket& socket();
  void close();

  // TLS only: OpenSSL's handle, for what Asio does not wrap (session
  // resumption for FTPS data connections).
  ssl_st* tls_handle();
  // TLS only: sends close_notify and waits (at most until the peer closes)
  // for the peer's; the caller bounds it in time.
  boost::asio::awaitable<void> shutdown_tls(boost::system::error_code& ec);

 private:
  struct Tls;
  StreamSocket socket_;
  std::unique_ptr<Tls> tls_;
};

}  // namespace sockit::net
