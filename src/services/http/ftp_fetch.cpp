// ftp:// for `sockit get`: one file by RETR over a passive data connection
// (EPSV, then PASV), resumed with REST, its size from SIZE. Anonymous
// unless the URL carries user:password (or -u gives them).
#include "codec/ftp/address.hpp"
#include "codec/ftp/client_reply.hpp"
#include "net/connector.hpp"
#include "net/stream.hpp"
#include "net/within.hpp"
#include "services/http/fetcher.hpp"
#include "services/transfer/transfer_session.hpp"

#include <boost/asio/error.hpp>
#include <boost/url/pct_string_view.hpp>

#include <fmt/format.h>

namespace sockit::http {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;
using codec::http::Url;

namespace {

constexpr std::size_t kReadSize = 256 * 1024;

// The control connection: commands out, replies in, each step timed.
class FtpControl {
 public:
  FtpControl(net::Stream stream, const ConnectContext& context, std::string origin)
      : stream_(std::move(stream)), context_(context), origin_(std::move(origin)), buffer_(8192) {}

  awaitable<codec::ftp::ClientReply> reply() {
    for (;;) {
      std::string error;
      auto reply = reader_.next(error);
      if (!error.empty()) throw FetchError(origin_ + ": " + error, kWeirdServerReply);
      if (reply) co_return *reply;
      error_code ec;
      std::size_t n = 0;
      auto read = [&]() -> awaitable<bool> {
        n = co_await stream_.read_some(buffer_, ec);
        co_return true;
      };
      auto done = co_await net::within(context_.bounded(context_.options.stall_timeout), read());
      if (!done) throw FetchError(origin_ + ": no reply from the server", kTimedOut, true);
      if (ec)
        throw FetchError(origin_ + ": the control connection ended: " + ec.message(), kReceiveError, true);
      reader_.feed(std::string_view(buffer_.data(), n));
    }
  }

  // Sends "VERB arg" and returns the reply.
  awaitable<codec::ftp::ClientReply> command(std::string line) {
    if (line.find_first_of("\r\n") != std::string::npos)
      throw FetchError("a CR or LF in an FTP path or name", kBadUrl);
    line += "\r\n";
    std::span<const char> piece(line.data(), line.size());
    error_code ec;
    co_await stream_.write(std::span(&piece, 1), ec);
    if (ec)
      throw FetchError(origin_ + ": the control connection ended: " + ec.message(), kReceiveError, true);
    auto answer = co_await reply();
    co_return answer;
  }

  const std::string& origin() const { return origin_; }

 private:
  net::Stream stream_;
  const ConnectContext& context_;
  std::string origin_;
  std::vector<char> buffer_;
  codec::ftp::FtpReplyReader reader_;
};

awaitable<net::StreamSocket> connect_to(const std::string& host, std::uint16_t port,
                                        const ConnectContext& context) {
  net::Endpoint endpoint;
  endpoint.host = host;
  endpoint.port = port;
  std::optional<net::StreamSocket> socket;
  try {
    socket.emplace(co_await net::connect_stream(endpoint, context.bounded(context.options.connect_timeout)));
  } catch (const net::ConnectError& e) {
    throw FetchError(e.what(),
                     e.reason == net::ConnectError::Reason::resolve ? kCannotResolve : kCannotConnect, true);
  }
  co_return std::move(*socket);
}

FetchError refused(const std::string& what, const codec::ftp::ClientReply& reply, int code,
                   bool transient = false) {
  return FetchError(fmt::format("{}: {} {}", what, reply.code, reply.text), code,
                    transient || reply.code / 100 == 4);
}

std::string decoded_path(const Url& url) {
  std::string path = url.target.substr(0, url.target.find('?'));
  if (!path.empty() && path.front() == '/') path.erase(0, 1);  // relative to where the login lands, as curl
  auto decoded = boost::urls::make_pct_string_view(path);
  if (!decoded) throw FetchError("bad ftp:// path in " + url.text(), kBadUrl);
  return decoded->decode();
}

}  // namespace

awaitable<void> Fetcher::attempt_ftp(const Url& url, Output& output) {
  if (url.scheme != "ftp")
    throw FetchError("sockit get does not speak " + url.scheme + ":// yet (ftp:// only)",
                     kUnsupportedProtocol);
  std::string path = decoded_path(url);
  if (path.empty() || path.back() == '/')
    throw FetchError(url.text() + ": give a file, not a directory", kBadUrl);
  auto socket = co_await connect_to(url.host, url.port, context_);
  FtpControl control(net::Stream(std::move(socket)), context_, url.scheme + "://" + url.authority());
  auto greeting = co_await control.reply();
  if (greeting.code != 220) throw refused(control.origin() + ": greeting", greeting, kWeirdServerReply);
  std::string user = "anonymous", password = "sockit@";
  if (!request_.user.empty()) {
    user = request_.user.substr(0, request_.user.find(':'));
    password = request_.user.substr(request_.user.find(':') + 1);
  } else if (url.has_user) {
    user = url.user;
    password = url.password;
  }
  auto login = co_await control.command("USER " + user);
  if (login.code == 331) login = co_await control.command("PASS " + password);
  if (login.code != 230 && login.code != 202)
    throw refused(control.origin() + ": login", login, kLoginDenied);
  auto type = co_await control.command("TYPE I");
  if (type.code != 200) throw refused(control.origin() + ": TYPE I", type, kWeirdServerReply);
  std::optional<std::uint64_t> size;
  auto size_reply = co_await control.command("SIZE " + path);
  if (size_reply.code == 213) {
    try {
      size = std::stoull(size_reply.text);
    } catch (const std::exception&) {
    }
  } else if (size_reply.code == 550) {
    throw refused(url.text(), size_reply, kRemoteFileNotFound);
  }
  // Passive: EPSV (the data port on the control connection's host), else PASV.
  std::uint16_t data_port = 0;
  auto epsv = co_await control.command("EPSV");
  if (epsv.code == 229) {
    if (auto port = codec::ftp::parse_epsv_reply(epsv.text)) data_port = *port;
  }
  if (!data_port) {
    auto pasv = co_await control.command("PASV");
    auto address = pasv.code == 227 ? codec::ftp::parse_pasv_reply(pasv.text) : std::nullopt;
    if (!address) throw refused(control.origin() + ": no passive mode", pasv, kWeirdServerReply);
    data_port = address->port;  // the host is the control connection's: a PASV address is not trusted
  }
  auto data_socket = co_await connect_to(url.host, data_port, context_);
  net::Stream data(std::move(data_socket));
  // REST goes right before RETR: servers forget it at any other command.
  std::uint64_t offset = output.have();
  if (size && offset > *size) offset = 0;  // the part is longer than the file: start over
  if (offset > 0) {
    auto rest = co_await control.command("REST " + std::to_string(offset));
    if (rest.code != 350) offset = 0;
  }
  auto retr = co_await control.command("RETR " + path);
  if (retr.code == 550) throw refused(url.text(), retr, kRemoteFileNotFound);
  if (retr.code != 150 && retr.code != 125) throw refused(url.text() + ": RETR", retr, kRetrFailed);
  output.start(offset, {});
  if (display_.progress && size) display_.progress->file_started(output.name(), *size, offset);
  std::vector<char> buffer(kReadSize);
  std::uint64_t received = offset;
  for (;;) {
    error_code ec;
    std::size_t n = 0;
    auto read = [&]() -> awaitable<bool> {
      n = co_await data.read_some(buffer, ec);
      co_return true;
    };
    auto done = co_await net::within(context_.bounded(context_.options.stall_timeout), read());
    if (!done) throw FetchError(url.text() + ": nothing arrived on the data connection", kTimedOut, true);
    if (ec == asio::error::eof) break;
    if (ec) throw FetchError(url.text() + ": the data connection ended: " + ec.message(), kPartialFile, true);
    output.write(std::string_view(buffer.data(), n));
    received += n;
    if (display_.progress) display_.progress->advanced(n);
  }
  auto end = co_await control.reply();
  if (end.code != 226 && end.code != 250)
    throw refused(url.text() + ": the transfer", end, kPartialFile, true);
  if (size && received != *size)
    throw FetchError(fmt::format("{}: {} of {} bytes arrived", url.text(), received, *size), kPartialFile,
                     true);
  co_await control.command("QUIT");
}

}  // namespace sockit::http
