// Data connections: passive (EPSV, then PASV; always to the control
// connection's peer address) or active (EPRT, then PORT; accepted only from
// the control peer), TLS resumed from the control connection, and the
// transfers over them: listings, RETR, STOR/APPE.
#include "services/ftp_client/ftp_client.hpp"

#include "codec/ftp/address.hpp"
#include "net/connector.hpp"
#include "net/within.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>

#include <fmt/format.h>

namespace sockit::ftp_client {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;

namespace {

constexpr std::size_t kDataBuffer = 256 * 1024;
constexpr std::size_t kMaxListing = 64 * 1024 * 1024;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Netascii (TYPE A) to local text: CR LF -> LF, a CR at the end of one
// piece held until the next shows what follows it.
class AsciiIn {
 public:
  std::string convert(std::string_view piece) {
    std::string out;
    out.reserve(piece.size() + 1);
    for (char c : piece) {
      if (held_cr_) {
        held_cr_ = false;
        if (c != '\n') out += '\r';
      }
      if (c == '\r') {
        held_cr_ = true;
        continue;
      }
      out += c;
    }
    return out;
  }
  std::string flush() { return held_cr_ ? std::string("\r") : std::string(); }

 private:
  bool held_cr_ = false;
};

// Local text to netascii: LF -> CR LF.
std::string ascii_out(std::string_view piece) {
  std::string out;
  out.reserve(piece.size() + piece.size() / 32 + 1);
  for (char c : piece) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

bool is_end_of_data(const error_code& ec) {
  // A TLS peer that closes without close_notify still ended the data: the
  // final reply (226) and the size checks say whether all of it came.
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}

}  // namespace

awaitable<net::StreamSocket> FtpClient::passive_socket() {
  std::uint16_t port = 0;
  if (!epsv_failed_) {
    auto epsv = co_await command("EPSV");
    if (epsv.code == 229) {
      if (auto p = codec::ftp::parse_epsv_reply(epsv.text)) port = *p;
    } else if (epsv.code / 100 == 5) {
      epsv_failed_ = true;  // not offered: PASV from now on
    }
  }
  if (!port) {
    auto pasv = co_await command("PASV");
    auto address = pasv.code == 227 ? codec::ftp::parse_pasv_reply(pasv.text) : std::nullopt;
    if (!address)
      throw FtpError(
          FtpError::Kind::refused,
          fmt::format("{}: no passive mode (PASV: {} {}); try active mode", origin(), pasv.code, pasv.text),
          pasv.code);
    port = address->port;  // the host is the control connection's: a PASV address is not trusted
  }
  net::Endpoint endpoint;
  endpoint.host = peer_ip_;
  endpoint.port = port;
  try {
    co_return co_await net::connect_stream(endpoint, limit(options_.connect_timeout));
  } catch (const net::ConnectError& e) {
    throw FtpError(FtpError::Kind::connect, std::string("data connection: ") + e.what());
  }
}

awaitable<std::unique_ptr<net::Stream>> FtpClient::open_data(const std::string& command_line,
                                                             std::uint64_t rest, bool* accepted) {
  co_await drain_pending();
  if (!control_) throw FtpError(FtpError::Kind::lost, "not connected (use 'open HOST')");
  auto executor = co_await asio::this_coro::executor;
  std::optional<net::StreamSocket> socket;
  std::optional<asio::ip::tcp::acceptor> acceptor;
  asio::ip::address control_peer = asio::ip::make_address(peer_ip_);
  if (options_.passive) {
    socket.emplace(co_await passive_socket());
  } else {
    auto local = asio::ip::make_address(local_ip_);
    acceptor.emplace(executor, asio::ip::tcp::endpoint(local, 0));
    acceptor->listen(1);
    codec::ftp::HostPort us{local_ip_, acceptor->local_endpoint().port(), local.is_v6()};
    bool told = false;
    if (!eprt_failed_) {
      auto eprt = co_await command("EPRT " + codec::ftp::format_eprt(us));
      told = eprt.code == 200;
      if (eprt.code / 100 == 5) eprt_failed_ = true;
    }
    if (!told && !us.ipv6)
      co_await require("PORT " + codec::ftp::format_pasv(us.host, us.port), 200, 0, origin() + ": PORT");
    else if (!told)
      throw FtpError(FtpError::Kind::refused, origin() + ": the server refused EPRT; try passive mode");
  }
  if (rest > 0) {
    auto reply = co_await command(fmt::format("REST {}", rest));
    if (accepted) *accepted = reply.code == 350;
  }
  co_await send_line(command_line);
  std::optional<Reply> preliminary;
  if (acceptor) {
    // The server connects to us, before or after its 1xx reply; a refusal
    // (550) comes instead of a connection.
    using namespace asio::experimental::awaitable_operators;
    asio::ip::tcp::socket tcp(executor);
    bool connected = false;
    {
      asio::steady_timer timer(executor, limit(options_.connect_timeout));
      auto first = co_await (acceptor->async_accept(tcp, use_tuple) ||
                             control_->socket().async_wait(net::StreamSocket::wait_read, use_tuple) ||
                             timer.async_wait(use_tuple));
      if (first.index() == 0) {
        connected = !std::get<0>(std::get<0>(first));
      } else if (first.index() == 1) {
        preliminary = co_await read_reply();
        if (preliminary->code / 100 != 1)
          throw FtpError(FtpError::Kind::refused,
                         fmt::format("{}: {} {}", command_line, preliminary->code, preliminary->text),
                         preliminary->code);
        timer.expires_after(limit(options_.connect_timeout));
        auto second = co_await (acceptor->async_accept(tcp, use_tuple) || timer.async_wait(use_tuple));
        connected = second.index() == 0 && !std::get<0>(std::get<0>(second));
      }
    }
    if (!connected) {
      pending_replies_ += 1;
      throw FtpError(FtpError::Kind::connect,
                     origin() + ": the server did not open the data connection (active mode); try passive");
    }
    error_code ec;
    auto from = tcp.remote_endpoint(ec).address();
    auto unmapped = [](asio::ip::address a) {
      return a.is_v6() && a.to_v6().is_v4_mapped()
                 ? asio::ip::address(asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()))
                 : a;
    };
    if (ec || unmapped(from) != unmapped(control_peer)) {
      pending_replies_ += 1;
      throw FtpError(FtpError::Kind::data,
                     fmt::format("{}: a data connection came from {}, not from the server", origin(),
                                 ec ? std::string("?") : from.to_string()));
    }
    tcp.set_option(asio::ip::tcp::no_delay(true), ec);
    auto protocol = tcp.local_endpoint().protocol();
    socket.emplace(executor, asio::generic::stream_protocol(protocol.family(), IPPROTO_TCP), tcp.release());
  }
  if (!preliminary) {
    auto reply = co_await read_reply();
    if (reply.code / 100 != 1)
      throw FtpError(FtpError::Kind::refused, fmt::format("{}: {} {}", command_line, reply.code, reply.text),
                     reply.code);
  }
  std::unique_ptr<net::Stream> data;
  if (secure_) {
    data = std::make_unique<net::Stream>(std::move(*socket), *options_.tls);
    try {
      co_await tls_handshake(*data, true);
    } catch (...) {
      pending_replies_ += 1;
      throw;
    }
  } else {
    data = std::make_unique<net::Stream>(std::move(*socket));
  }
  co_return data;
}

awaitable<void> FtpClient::finish_transfer(const std::string& what) {
  auto reply = co_await read_reply();
  if (reply.code != 226 && reply.code != 250)
    throw FtpError(FtpError::Kind::refused, fmt::format("{}: {} {}", what, reply.code, reply.text),
                   reply.code);
}

namespace {

// Our close_notify, waited for at most `limit`. A TLS connection freed
// without it makes OpenSSL drop its session as unresumable, and every later
// data connection must resume that session (servers refuse it otherwise).
awaitable<void> send_close_notify(net::Stream& data, std::chrono::milliseconds limit) {
  error_code ignored;
  auto shut = [&]() -> awaitable<bool> {
    co_await data.shutdown_tls(ignored);
    co_return true;
  };
  co_await net::within(limit, shut());
}

// Reads `data` to its end into `sink`, each read bounded by `stall`.
awaitable<std::uint64_t> drain_data(net::Stream& data, std::chrono::milliseconds stall, const Sink& sink,
                                    const std::string& what) {
  std::vector<char> buffer(kDataBuffer);
  std::uint64_t total = 0;
  for (;;) {
    error_code ec;
    std::size_t n = 0;
    auto read = [&]() -> awaitable<bool> {
      n = co_await data.read_some(buffer, ec);
      co_return true;
    };
    auto done = co_await net::within(stall, read());
    if (!done)
      throw FtpError(
          FtpError::Kind::timeout,
          fmt::format("{}: nothing arrived on the data connection for {:g} s", what, stall.count() / 1000.0));
    if (n > 0) {
      total += n;
      sink(std::string_view(buffer.data(), n));
    }
    if (ec && is_end_of_data(ec)) {
      if (data.is_tls() && ec == asio::error::eof)
        co_await send_close_notify(data, std::min(stall, std::chrono::milliseconds(5000)));
      break;
    }
    if (ec) throw FtpError(FtpError::Kind::data, what + ": the data connection ended: " + ec.message());
  }
  co_return total;
}

}  // namespace

awaitable<std::string> FtpClient::list(const std::string& verb, const std::string& path) {
  std::string line = path.empty() ? verb : verb + " " + path;
  auto data = co_await open_data(line);
  std::string text;
  try {
    co_await drain_data(
        *data, limit(options_.stall_timeout),
        [&](std::string_view piece) {
          if (text.size() + piece.size() > kMaxListing)
            throw FtpError(FtpError::Kind::data, line + ": the listing is over 64 MiB");
          text.append(piece);
        },
        line);
  } catch (...) {
    data->close();
    pending_replies_ += 1;
    throw;
  }
  data->close();
  co_await finish_transfer(line);
  co_return text;
}

awaitable<std::uint64_t> FtpClient::retrieve(const std::string& path, std::uint64_t offset, const Sink& sink,
                                             const std::function<void(std::uint64_t)>& started) {
  bool accepted = false;
  std::string line = "RETR " + path;
  auto data = co_await open_data(line, offset, &accepted);
  std::uint64_t total = 0;
  try {
    if (started) started(accepted ? offset : 0);
    if (type_ == 'A') {
      AsciiIn ascii;
      total = co_await drain_data(
          *data, limit(options_.stall_timeout), [&](std::string_view piece) { sink(ascii.convert(piece)); },
          path);
      if (auto rest = ascii.flush(); !rest.empty()) sink(rest);
    } else {
      total = co_await drain_data(*data, limit(options_.stall_timeout), sink, path);
    }
  } catch (...) {
    data->close();
    pending_replies_ += 1;
    throw;
  }
  data->close();
  co_await finish_transfer(path);
  co_return total;
}

awaitable<std::uint64_t> FtpClient::store(const std::string& path, std::uint64_t offset, bool append,
                                          const Source& source) {
  std::string line = (append ? "APPE " : "STOR ") + path;
  bool accepted = false;
  // (No ?: inside a co_await expression: GCC 12 mishandles its temporaries.)
  std::uint64_t rest = 0;
  if (!append) rest = offset;
  auto data = co_await open_data(line, rest, &accepted);
  if (offset > 0 && !append && !accepted) {
    data->close();
    pending_replies_ += 1;
    throw FtpError(FtpError::Kind::refused, origin() + ": the server cannot resume an upload (REST refused)");
  }
  std::vector<char> buffer(kDataBuffer);
  std::uint64_t total = 0;
  bool cut = false;  // the server closed the data connection under us
  try {
    for (;;) {
      std::size_t n = source(buffer);
      if (n == 0) break;
      std::string converted;
      std::span<const char> piece(buffer.data(), n);
      if (type_ == 'A') {
        converted = ascii_out(std::string_view(buffer.data(), n));
        piece = std::span<const char>(converted.data(), converted.size());
      }
      error_code ec;
      auto write = [&]() -> awaitable<bool> {
        co_await data->write(std::span(&piece, 1), ec);
        co_return true;
      };
      auto done = co_await net::within(limit(options_.stall_timeout), write());
      if (!done)
        throw FtpError(FtpError::Kind::timeout, fmt::format("{}: the server took nothing for {:g} s", path,
                                                            options_.stall_timeout.count() / 1000.0));
      if (ec) {
        cut = true;
        throw FtpError(FtpError::Kind::data, path + ": the data connection ended: " + ec.message());
      }
      total += n;
    }
    // close_notify also tells the server the file ended here, not cut short.
    if (data->is_tls())
      co_await send_close_notify(*data,
                                 std::min(limit(options_.stall_timeout), std::chrono::milliseconds(5000)));
  } catch (...) {
    data->close();
    pending_replies_ += 1;
    if (!cut) throw;
  }
  data->close();
  if (cut) {
    // The server stopped the upload (a full disk, a quota, a permission):
    // its reply says why better than "broken pipe" does.
    pending_replies_ -= 1;
    auto why = [&]() -> awaitable<Reply> { co_return co_await read_reply(); };
    auto reply =
        co_await net::within(std::min(limit(options_.stall_timeout), std::chrono::milliseconds(5000)), why());
    if (!reply) {
      fail_connection();
      throw FtpError(FtpError::Kind::data, path + ": the server closed the data connection and said nothing");
    }
    throw FtpError(reply->code / 100 == 2 ? FtpError::Kind::data : FtpError::Kind::refused,
                   fmt::format("{}: {} {}", path, reply->code, reply->text), reply->code);
  }
  co_await finish_transfer(path);
  co_return total;
}

}  // namespace sockit::ftp_client
