// ftp:// and ftps:// for `sockit get`, through the FTP client
// (services/ftp_client): one file by RETR over a passive data connection,
// resumed with REST, its size from SIZE. Anonymous unless the URL carries
// user:password (or -u gives them). ftps:// is implicit TLS (port 990), and
// --ssl-reqd turns ftp:// into explicit TLS (AUTH TLS), as curl does.
#include "services/ftp_client/ftp_client.hpp"
#include "services/http/fetcher.hpp"
#include "services/transfer/transfer_session.hpp"

#include <boost/url/pct_string_view.hpp>

#include <fmt/format.h>

namespace sockit::http {
namespace asio = boost::asio;
using asio::awaitable;
using codec::http::Url;
using ftp_client::FtpError;

namespace {

std::string decoded_path(const Url& url) {
  std::string path = url.target.substr(0, url.target.find('?'));
  if (!path.empty() && path.front() == '/') path.erase(0, 1);  // relative to where the login lands, as curl
  auto decoded = boost::urls::make_pct_string_view(path);
  if (!decoded) throw FetchError("bad ftp:// path in " + url.text(), kBadUrl);
  return decoded->decode();
}

// curl's exit code for an FTP failure; `refused` is the code a refusing
// reply maps to at this step.
FetchError fetch_error(const FtpError& e, int refused) {
  using Kind = FtpError::Kind;
  switch (e.kind) {
    case Kind::resolve:
      return FetchError(e.what(), kCannotResolve, true);
    case Kind::connect:
      return FetchError(e.what(), kCannotConnect, true);
    case Kind::timeout:
      return FetchError(e.what(), kTimedOut, true);
    case Kind::tls:
      return FetchError(e.what(), e.reply_code ? kSslRequired : kTlsHandshake, !e.reply_code);
    case Kind::certificate:
      return FetchError(e.what(), kCertificate);
    case Kind::protocol:
      return FetchError(e.what(), kWeirdServerReply);
    case Kind::lost:
      return FetchError(e.what(), kReceiveError, true);
    case Kind::data:
      return FetchError(e.what(), kPartialFile, true);
    case Kind::local:
      return FetchError(e.what(), kBadUrl);
    case Kind::refused:
      break;
  }
  return FetchError(e.what(), refused, e.transient());
}

}  // namespace

awaitable<void> Fetcher::attempt_ftp(const Url& url, Output& output) {
  std::string path = decoded_path(url);
  if (path.empty() || path.back() == '/')
    throw FetchError(url.text() + ": give a file, not a directory", kBadUrl);
  ftp_client::ClientOptions options;
  options.host = url.host;
  options.port = url.port;
  if (url.scheme == "ftps")
    options.security = ftp_client::Security::implicit_tls;
  else if (context_.options.ftp_ssl_required)
    options.security = ftp_client::Security::explicit_tls;
  if (options.security != ftp_client::Security::none) options.tls = &context_.tls();
  options.connect_timeout = context_.options.connect_timeout;
  options.stall_timeout = context_.options.stall_timeout;
  options.bound = [this](std::chrono::milliseconds wanted) { return context_.bounded(wanted); };
  if (display_.verbose) options.trace = display_.trace;
  ftp_client::FtpClient client(options);

  std::string user = "anonymous", password = "sockit@";
  if (!request_.user.empty()) {
    user = request_.user.substr(0, request_.user.find(':'));
    password = request_.user.substr(request_.user.find(':') + 1);
  } else if (url.has_user) {
    user = url.user;
    password = url.password;
  }
  // Each step's refusal has its own exit code.
  int refused = kWeirdServerReply;
  std::optional<FtpError> failure;
  try {
    co_await client.connect();
    refused = kLoginDenied;
    co_await client.login(user, password);
    refused = kWeirdServerReply;
    co_await client.set_type(true);
    auto size = co_await client.size(path);
    std::uint64_t offset = output.have();
    if (size && offset > *size) offset = 0;  // the part is longer than the file: start over
    refused = kRetrFailed;
    std::uint64_t received = 0;
    auto started = [&](std::uint64_t from) {
      received = from;
      output.start(from, {});
      if (display_.progress && size) display_.progress->file_started(output.name(), *size, from);
    };
    auto sink = [&](std::string_view piece) {
      output.write(piece);
      received += piece.size();
      if (display_.progress) display_.progress->advanced(piece.size());
    };
    try {
      co_await client.retrieve(path, offset, sink, started);
    } catch (const FtpError& e) {
      if (e.kind == FtpError::Kind::refused && e.reply_code == 550)
        throw FetchError(fmt::format("{}: {}", url.text(), e.what()), kRemoteFileNotFound);
      throw;
    }
    if (size && received != *size)
      throw FetchError(fmt::format("{}: {} of {} bytes arrived", url.text(), received, *size), kPartialFile,
                       true);
    co_await client.quit();
  } catch (const FtpError& e) {
    failure = e;
  }
  if (failure) throw fetch_error(*failure, refused);
}

}  // namespace sockit::http
