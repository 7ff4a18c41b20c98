// The control connection: connecting, TLS, login, commands and replies.
// Data connections and transfers are in ftp_data.cpp.
#include "services/ftp_client/ftp_client.hpp"

#include "net/connector.hpp"
#include "net/socket_types.hpp"
#include "net/within.hpp"

#include <boost/asio/error.hpp>

#include <openssl/ssl.h>

#include <fmt/format.h>

namespace sockit::ftp_client {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;

namespace {
constexpr std::size_t kControlBuffer = 8192;
}  // namespace

bool FtpError::transient() const {
  switch (kind) {
    case Kind::connect:
    case Kind::timeout:
    case Kind::lost:
    case Kind::data:
      return true;
    case Kind::refused:
      return reply_code / 100 == 4;
    default:
      return false;
  }
}

std::string remote_base_name(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

FtpClient::FtpClient(ClientOptions options)
    : options_(std::move(options)), buffer_(std::make_unique<char[]>(kControlBuffer)) {}

FtpClient::~FtpClient() = default;

std::string FtpClient::origin() const {
  bool v6 = options_.host.find(':') != std::string::npos;
  return fmt::format("{}{}{}:{}", v6 ? "[" : "", options_.host, v6 ? "]" : "", options_.port);
}

std::chrono::milliseconds FtpClient::limit(std::chrono::milliseconds wanted) const {
  return options_.bound ? options_.bound(wanted) : wanted;
}

void FtpClient::trace(const std::string& line) const {
  if (options_.trace) options_.trace(line);
}

void FtpClient::fail_connection() {
  if (control_) control_->close();
  control_.reset();
  reader_ = {};
  secure_ = false;
  pending_replies_ = 0;
  features_.reset();
  type_ = 0;
}

bool FtpClient::check_connection() {
  if (control_ && net::peer_hung_up(control_->socket())) fail_connection();
  return connected();
}

awaitable<Reply> FtpClient::read_reply() {
  for (;;) {
    std::string error;
    auto reply = reader_.next(error);
    if (!error.empty()) {
      fail_connection();
      throw FtpError(FtpError::Kind::protocol, origin() + ": " + error);
    }
    if (reply) {
      trace(fmt::format("< {} {}", reply->code, reply->text));
      if (reply->code == 421) {  // the server is closing the connection
        fail_connection();
        throw FtpError(FtpError::Kind::lost, fmt::format("{}: {} {}", origin(), reply->code, reply->text),
                       421);
      }
      co_return std::move(*reply);
    }
    if (!control_) throw FtpError(FtpError::Kind::lost, origin() + ": not connected");
    error_code ec;
    std::size_t n = 0;
    auto read = [&]() -> awaitable<bool> {
      n = co_await control_->read_some(std::span(buffer_.get(), kControlBuffer), ec);
      co_return true;
    };
    auto done = co_await net::within(limit(options_.stall_timeout), read());
    if (!done) {
      fail_connection();
      throw FtpError(FtpError::Kind::timeout, fmt::format("{}: no reply from the server for {:g} s", origin(),
                                                          options_.stall_timeout.count() / 1000.0));
    }
    if (ec) {
      fail_connection();
      throw FtpError(FtpError::Kind::lost, origin() + ": the control connection ended: " + ec.message());
    }
    reader_.feed(std::string_view(buffer_.get(), n));
  }
}

awaitable<void> FtpClient::send_line(const std::string& line) {
  if (!control_) throw FtpError(FtpError::Kind::lost, "not connected (use 'open HOST')");
  if (line.find_first_of("\r\n") != std::string::npos)
    throw FtpError(FtpError::Kind::local, "a CR or LF in an FTP path or name");
  trace(line.starts_with("PASS ") ? "> PASS ****" : "> " + line);
  std::string bytes = line + "\r\n";
  std::span<const char> piece(bytes.data(), bytes.size());
  error_code ec;
  auto write = [&]() -> awaitable<bool> {
    co_await control_->write(std::span(&piece, 1), ec);
    co_return true;
  };
  auto done = co_await net::within(limit(options_.stall_timeout), write());
  if (!done || ec) {
    fail_connection();
    throw FtpError(done ? FtpError::Kind::lost : FtpError::Kind::timeout,
                   origin() + ": the control connection ended" + (ec ? ": " + ec.message() : std::string()));
  }
}

awaitable<void> FtpClient::drain_pending() {
  while (pending_replies_ > 0 && control_) {
    --pending_replies_;
    auto reply = co_await read_reply();
    while (reply.code / 100 == 1) reply = co_await read_reply();
  }
}

awaitable<Reply> FtpClient::command(std::string line) {
  co_await drain_pending();
  co_await send_line(line);
  auto reply = co_await read_reply();
  // A preliminary reply to a command that opens no data connection: the
  // final one follows.
  while (reply.code / 100 == 1) reply = co_await read_reply();
  co_return reply;
}

awaitable<Reply> FtpClient::require(std::string line, int ok, int also_ok, std::string what) {
  auto reply = co_await command(std::move(line));
  if (reply.code == ok || (also_ok && reply.code == also_ok)) co_return reply;
  throw FtpError(FtpError::Kind::refused, fmt::format("{}: {} {}", what, reply.code, reply.text), reply.code);
}

awaitable<void> FtpClient::tls_handshake(net::Stream& stream, bool data) {
  if (data) {
    // The data connection must resume the control connection's session:
    // it proves to the server that the same client opened both.
    if (SSL_SESSION* session = SSL_get1_session(control_->tls_handle())) {
      SSL_set_session(stream.tls_handle(), session);
      SSL_SESSION_free(session);
    }
  }
  error_code ec;
  auto handshake = [&]() -> awaitable<bool> {
    co_await stream.handshake_client(options_.host, ec);
    co_return true;
  };
  auto done = co_await net::within(limit(options_.stall_timeout), handshake());
  if (!done) throw FtpError(FtpError::Kind::timeout, origin() + ": the TLS handshake did not finish");
  if (ec) {
    std::string what = ec.message();
    if (what.find("certificate") != std::string::npos)
      throw FtpError(FtpError::Kind::certificate,
                     origin() + ": the server's certificate cannot be trusted (" + what +
                         "); --cacert FILE trusts another CA, -k checks nothing");
    throw FtpError(
        FtpError::Kind::tls,
        origin() + (data ? ": TLS on the data connection failed: " : ": TLS handshake failed: ") + what);
  }
}

awaitable<void> FtpClient::start_tls_on_control() {
  net::StreamSocket socket = std::move(control_->socket());
  control_ = std::make_unique<net::Stream>(std::move(socket), *options_.tls);
  try {
    co_await tls_handshake(*control_, false);
  } catch (...) {
    fail_connection();
    throw;
  }
  secure_ = true;
}

awaitable<Reply> FtpClient::connect() {
  if (control_) fail_connection();
  if (options_.security != Security::none && !options_.tls)
    throw std::invalid_argument("FtpClient: TLS asked for without a TLS context");
  net::Endpoint endpoint;
  endpoint.host = options_.host;
  endpoint.port = options_.port;
  std::optional<net::StreamSocket> socket;
  try {
    socket.emplace(co_await net::connect_stream(endpoint, limit(options_.connect_timeout)));
  } catch (const net::ConnectError& e) {
    using Reason = net::ConnectError::Reason;
    throw FtpError(e.reason == Reason::resolve   ? FtpError::Kind::resolve
                   : e.reason == Reason::timeout ? FtpError::Kind::timeout
                                                 : FtpError::Kind::connect,
                   e.what());
  }
  error_code ignored;
  peer_ip_ = net::peer_ip(socket->remote_endpoint(ignored));
  local_ip_ = net::peer_ip(socket->local_endpoint(ignored));
  epsv_failed_ = eprt_failed_ = false;
  control_ = std::make_unique<net::Stream>(std::move(*socket));
  if (options_.security == Security::implicit_tls) co_await start_tls_on_control();  // before the greeting
  auto greeting = co_await read_reply();
  while (greeting.code == 120) greeting = co_await read_reply();  // "ready in a moment"
  if (greeting.code != 220) {
    fail_connection();
    throw FtpError(greeting.code / 100 == 4 || greeting.code / 100 == 5 ? FtpError::Kind::refused
                                                                        : FtpError::Kind::protocol,
                   fmt::format("{}: greeting: {} {}", origin(), greeting.code, greeting.text), greeting.code);
  }
  if (options_.security == Security::explicit_tls) {
    auto auth = co_await command("AUTH TLS");
    if (auth.code != 234 && auth.code != 334) {
      fail_connection();
      throw FtpError(
          FtpError::Kind::tls,
          fmt::format("{}: the server refused TLS (AUTH TLS: {} {})", origin(), auth.code, auth.text),
          auth.code);
    }
    co_await start_tls_on_control();
  }
  if (secure_) {
    co_await require("PBSZ 0", 200, 0, origin() + ": PBSZ 0");
    co_await require("PROT P", 200, 0, origin() + ": PROT P (protected data connections)");
  }
  co_return greeting;
}

awaitable<void> FtpClient::login(const std::string& user, const std::string& password) {
  auto reply = co_await command("USER " + user);
  if (reply.code == 331 || reply.code == 332) reply = co_await command("PASS " + password);
  if (reply.code != 230 && reply.code != 202)
    throw FtpError(FtpError::Kind::refused, fmt::format("{}: login: {} {}", origin(), reply.code, reply.text),
                   reply.code);
  type_ = 0;  // unknown until set
}

awaitable<void> FtpClient::quit() {
  if (!control_) co_return;
  try {
    pending_replies_ = 0;
    co_await send_line("QUIT");
    auto wait = [&]() -> awaitable<bool> {
      co_await read_reply();
      co_return true;
    };
    co_await net::within(std::chrono::milliseconds(2000), wait());
  } catch (const FtpError&) {
  }
  if (control_ && secure_) {
    error_code ignored;
    auto shut = [&]() -> awaitable<bool> {
      co_await control_->shutdown_tls(ignored);
      co_return true;
    };
    co_await net::within(std::chrono::milliseconds(500), shut());
  }
  fail_connection();
}

awaitable<void> FtpClient::set_type(bool binary) {
  char wanted = binary ? 'I' : 'A';
  if (type_ == wanted) co_return;
  co_await require(std::string("TYPE ") + wanted, 200, 0, origin() + ": TYPE " + wanted);
  type_ = wanted;
}

awaitable<std::string> FtpClient::pwd() {
  auto reply = co_await require("PWD", 257, 0, "pwd");
  auto path = codec::ftp::parse_pwd_reply(reply.text);
  co_return path ? *path : reply.text;
}

awaitable<void> FtpClient::cwd(const std::string& path) {
  co_await require("CWD " + path, 250, 200, "cd " + path);
}

awaitable<void> FtpClient::cdup() {
  co_await require("CDUP", 250, 200, "cdup");
}

awaitable<void> FtpClient::mkdir(const std::string& path) {
  co_await require("MKD " + path, 257, 250, "mkdir " + path);
}

awaitable<void> FtpClient::rmdir(const std::string& path) {
  co_await require("RMD " + path, 250, 0, "rmdir " + path);
}

awaitable<void> FtpClient::remove(const std::string& path) {
  co_await require("DELE " + path, 250, 0, "delete " + path);
}

awaitable<void> FtpClient::rename(const std::string& from, const std::string& to) {
  co_await require("RNFR " + from, 350, 0, "rename " + from);
  co_await require("RNTO " + to, 250, 0, "rename " + from + " to " + to);
}

awaitable<std::optional<std::uint64_t>> FtpClient::size(const std::string& path) {
  auto reply = co_await command("SIZE " + path);
  if (reply.code != 213) co_return std::nullopt;
  co_return codec::ftp::parse_size_reply(reply.text);
}

awaitable<std::optional<std::int64_t>> FtpClient::modified(const std::string& path) {
  auto reply = co_await command("MDTM " + path);
  if (reply.code != 213) co_return std::nullopt;
  co_return codec::ftp::parse_mdtm_reply(reply.text);
}

awaitable<std::set<std::string>> FtpClient::features() {
  if (!features_) {
    auto reply = co_await command("FEAT");
    features_ = reply.code == 211 ? codec::ftp::parse_feat_reply(reply.text) : std::set<std::string>{};
  }
  co_return *features_;
}

}  // namespace sockit::ftp_client
