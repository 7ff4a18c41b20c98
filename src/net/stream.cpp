#include "net/stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/sendfile.h>

#include <array>
#include <cerrno>
#include <vector>

namespace sockit::net {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::awaitable;
using boost::system::error_code;

std::string peer_certificate_fingerprint(SSL* ssl);  // tls.cpp

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Enough pieces for a header + payload per frame of a batch; more are
// written in further calls.
constexpr std::size_t kMaxGather = 64;
constexpr std::size_t kJoinLimit = 16 * 1024;
}  // namespace

struct Stream::Tls {
  Tls(StreamSocket socket, TlsContext& context) : stream(std::move(socket), context) {}
  ssl::stream<StreamSocket> stream;
  std::vector<char> staging;  // small pieces joined into one record
};

Stream::Stream(StreamSocket socket) : socket_(std::move(socket)) {}

Stream::Stream(StreamSocket socket, TlsContext& tls)
    : socket_(socket.get_executor()), tls_(std::make_unique<Tls>(std::move(socket), tls)) {}

Stream::Stream(Stream&&) noexcept = default;
Stream& Stream::operator=(Stream&&) noexcept = default;
Stream::~Stream() = default;

bool Stream::is_tls() const {
  return tls_ != nullptr;
}

StreamSocket& Stream::socket() {
  return tls_ ? tls_->stream.next_layer() : socket_;
}

void Stream::close() {
  error_code ignored;
  socket().close(ignored);
}

ssl_st* Stream::tls_handle() {
  return tls_ ? tls_->stream.native_handle() : nullptr;
}

awaitable<void> Stream::shutdown_tls(error_code& ec) {
  auto [e] = co_await tls_->stream.async_shutdown(use_tuple);
  ec = e;
}

awaitable<void> Stream::handshake_server(error_code& ec) {
  auto [e] = co_await tls_->stream.async_handshake(ssl::stream_base::server, use_tuple);
  ec = e;
}

awaitable<void> Stream::handshake_client(const std::string& server_name, error_code& ec) {
  SSL* native = tls_->stream.native_handle();
  // SNI is for names, not addresses (RFC 6066).
  error_code not_an_address;
  asio::ip::make_address(server_name, not_an_address);
  if (not_an_address && !server_name.empty()) SSL_set_tlsext_host_name(native, server_name.c_str());
  if (SSL_get_verify_mode(native) & SSL_VERIFY_PEER)
    tls_->stream.set_verify_callback(ssl::host_name_verification(server_name));
  auto [e] = co_await tls_->stream.async_handshake(ssl::stream_base::client, use_tuple);
  ec = e;
}

std::optional<std::string> Stream::peer_fingerprint() const {
  if (!tls_) return std::nullopt;
  auto text = peer_certificate_fingerprint(tls_->stream.native_handle());
  if (text.empty()) return std::nullopt;
  return text;
}

awaitable<std::size_t> Stream::read_some(std::span<char> into, error_code& ec) {
  auto buffer = asio::buffer(into.data(), into.size());
  auto [e, n] = tls_ ? co_await tls_->stream.async_read_some(buffer, use_tuple)
                     : co_await socket_.async_read_some(buffer, use_tuple);
  ec = e;
  co_return n;
}

awaitable<void> Stream::write(std::span<const std::span<const char>> pieces, error_code& ec) {
  ec = {};
  if (tls_) {
    // Asio's SSL stream makes a record of each buffer of a gather write:
    // small pieces (frame headers, control frames) are joined first, so a
    // 5-byte header never costs a record of its own.
    std::size_t total = 0;
    for (auto piece : pieces) total += piece.size();
    if (pieces.size() > 1 && total <= kJoinLimit) {
      tls_->staging.clear();
      for (auto piece : pieces) tls_->staging.insert(tls_->staging.end(), piece.begin(), piece.end());
      auto [e, n] = co_await asio::async_write(tls_->stream, asio::buffer(tls_->staging), use_tuple);
      ec = e;
      co_return;
    }
  }
  while (!pieces.empty()) {
    std::array<asio::const_buffer, kMaxGather> buffers;
    std::size_t count = std::min(pieces.size(), kMaxGather);
    for (std::size_t i = 0; i < count; ++i) buffers[i] = asio::buffer(pieces[i].data(), pieces[i].size());
    auto batch = std::span(buffers.data(), count);
    auto [e, n] = tls_ ? co_await asio::async_write(tls_->stream, batch, use_tuple)
                       : co_await asio::async_write(socket_, batch, use_tuple);
    if (e) {
      ec = e;
      co_return;
    }
    pieces = pieces.subspan(count);
  }
}

awaitable<std::size_t> Stream::send_file(int fd, std::uint64_t offset, std::size_t length, error_code& ec) {
  ec = {};
  // Asio puts the socket in non-blocking mode for its own operations only
  // when it first needs to; sendfile must never block the loop.
  if (!socket_.native_non_blocking()) socket_.native_non_blocking(true, ec);
  if (ec) co_return 0;
  std::size_t done = 0;
  while (done < length) {
    auto at = static_cast<off_t>(offset + done);
    ssize_t n = ::sendfile(socket_.native_handle(), fd, &at, length - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n == 0) {
      break;  // the file ended early
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      auto [e] = co_await socket_.async_wait(StreamSocket::wait_write, use_tuple);
      if (e) {
        ec = e;
        break;
      }
    } else if (errno != EINTR) {
      ec = error_code(errno, boost::system::system_category());
      break;
    }
  }
  co_return done;
}

}  // namespace sockit::net
