// FTPS (RFC 4217, explicit mode): AUTH TLS turns the control connection into
// TLS, PBSZ 0 and PROT P make data connections TLS too; --require-tls makes
// both mandatory. Data connections must resume the control connection's
// session (ftps.hpp). Reply codes follow RFC 4217 and vsftpd; docs/ftp.md
// lists them.
#include "codec/ftp/command.hpp"
#include "net/within.hpp"
#include "services/ftp/ftps.hpp"
#include "services/ftp/session.hpp"

#include <spdlog/spdlog.h>

namespace sockit::ftp {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;
using codec::ftp::AuthMechanism;

namespace {

awaitable<error_code> handshake(net::Stream& stream) {
  error_code ec;
  co_await stream.handshake_server(ec);
  co_return ec;
}

awaitable<error_code> shutdown(net::Stream& stream) {
  error_code ec;
  co_await stream.shutdown_tls(ec);
  co_return ec;
}

}  // namespace

std::chrono::milliseconds Session::tls_limit() const {
  auto limit = shared_->config.tls_timeout;
  if (!account_) {
    // A handshake does not extend the time to log in.
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(login_deadline_ - Clock::now());
    limit = std::min(limit, std::max(left, std::chrono::milliseconds(1)));
  }
  return limit;
}

awaitable<void> Session::cmd_auth(std::string arg) {
  if (!shared_->tls)
    co_return say(502, "TLS is not offered here (the server runs without --tls or --tls-cert).");
  if (control_tls_) co_return say(503, "Already using TLS.");
  auto mechanism = codec::ftp::parse_auth(arg);
  if (mechanism == AuthMechanism::unknown) co_return say(504, "Unknown AUTH type; use AUTH TLS.");
  if (reader_.buffered() > 0 || !pending_.empty()) {
    // Whatever came after AUTH was sent in clear before TLS began: taking it
    // as said under TLS would let a man in the middle inject commands.
    spdlog::warn("{} event=refused reason=\"commands sent after AUTH before its reply\"", log_prefix());
    co_return say(503, "AUTH refused: send nothing after AUTH until its reply.");
  }
  say(234, "Proceed with negotiation.");
  co_await flush();
  if (closing_) co_return;
  tls_tag_ = fresh_session_tag();
  control_ = net::Stream(std::move(control_.socket()), *shared_->tls);
  offer_session_tag(control_, &tls_tag_);
  auto result = co_await net::within(tls_limit(), handshake(control_));
  if (!result || *result) {
    // Nothing more can be said: the connection is neither clear nor TLS.
    close_reason_ = result ? "tls_failed" : "tls_timeout";
    spdlog::info("{} event={} error=\"{}\"", log_prefix(), close_reason_,
                 result ? result->message() : "no TLS handshake within the timeout");
    closing_ = true;
    closing_write_failed_ = true;
    co_return;
  }
  tls_tag_ = adopt_session_tag(control_, tls_tag_);
  control_tls_ = true;
  protect_data_ = mechanism == AuthMechanism::tls_protect_data;  // AUTH SSL: data protected too (vsftpd)
  spdlog::info("{} event=tls tls=\"{}\" data={}", log_prefix(), describe_tls(control_),
               protect_data_ ? "private" : "clear");
}

awaitable<void> Session::cmd_pbsz(std::string arg) {
  if (!control_tls_) co_return say(503, "PBSZ needs a TLS control connection: send AUTH TLS first.");
  if (!codec::ftp::parse_pbsz(arg)) co_return say(501, "PBSZ takes a decimal number (0 for TLS).");
  pbsz_ = true;
  say(200, "PBSZ=0");  // RFC 4217: whatever was asked, TLS means 0
}

awaitable<void> Session::cmd_prot(std::string arg) {
  if (!control_tls_) co_return say(503, "PROT needs a TLS control connection: send AUTH TLS first.");
  if (!pbsz_) co_return say(503, "PROT needs PBSZ first (PBSZ 0).");
  switch (codec::ftp::parse_prot(arg)) {
    case 'P':
      protect_data_ = true;
      co_return say(200, "PROT now Private.");
    case 'C':
      protect_data_ = false;
      co_return say(200, "PROT now Clear.");
    case 'S':
    case 'E':
      co_return say(536, "PROT S and E are not supported; use P (or C).");
    default:
      co_return say(504, "PROT takes P or C.");
  }
}

awaitable<void> Session::cmd_ccc(std::string) {
  // Clearing the control channel would let a middlebox read and change
  // every command after it; vsftpd does not offer it either.
  if (!control_tls_) co_return say(533, "CCC needs a TLS control connection.");
  say(534, "CCC refused: the control connection stays encrypted.");
}

bool Session::login_needs_tls(bool anonymous) {
  const auto& config = shared_->config;
  if (!config.require_tls || control_tls_ || (anonymous && config.plain_anonymous)) return false;
  spdlog::info("{} event=refused reason=tls_required", log_prefix());
  say(530, "This server requires TLS: send AUTH TLS before logging in.");
  return true;
}

bool Session::data_needs_protection() {
  const auto& config = shared_->config;
  if (!config.require_tls || protect_data_) return false;
  if (config.plain_anonymous && account_ && account_->kind == AccountKind::anonymous) return false;
  spdlog::info("{} event=refused reason=prot_p_required", log_prefix());
  say(521, "Data connections must be encrypted: send PBSZ 0 and PROT P first.");
  return true;
}

awaitable<bool> Session::secure_data(net::Stream& data, bool upload) {
  prepare_data_tls(data, upload);
  auto result = co_await net::within(shared_->config.tls_timeout, handshake(data));
  if (!result || *result) {
    std::string why = result ? result->message() : "no TLS handshake within the timeout";
    spdlog::info("{} event=data_tls_failed error=\"{}\"", log_prefix(), why);
    say(522, "TLS on the data connection failed: " + why + ".");
    co_return false;
  }
  auto tag = resumed_session_tag(data);
  if (!tag || *tag != tls_tag_) {
    const char* why = !tag ? "TLS session not reused" : "resumed another connection's TLS session";
    spdlog::warn("{} event=data_refused reason=\"{}\"", log_prefix(), why);
    say(522, std::string("Data connection refused: it must resume the control connection's TLS session (") +
                 why + ").");
    co_return false;
  }
  co_return true;
}

awaitable<void> Session::close_data(net::Stream& data, Outcome outcome, bool tls_intact) {
  if (data.is_tls() && outcome == Outcome::done && tls_intact) {
    // close_notify both ways: the client knows it has every byte; curl and
    // lftp complain about a TLS data connection that just ends.
    auto result = co_await net::within(shared_->config.tls_timeout, shutdown(data));
    if (!result) spdlog::debug("{} event=data_tls_close reason=timeout", log_prefix());
  }
  keep_session(data);
  error_code ignored;
  data.socket().shutdown(net::StreamSocket::shutdown_send, ignored);
  data.close();
}

awaitable<void> Session::end_control_tls() {
  co_await net::within(shared_->config.tls_timeout, shutdown(control_));
}

std::string Session::tls_status() {
  if (!control_tls_)
    return shared_->tls ? "Control connection: clear (AUTH TLS offered)" : "Control connection: clear";
  return "Control connection: " + describe_tls(control_) +
         "; data: " + (protect_data_ ? "PROT P (private)" : "PROT C (clear)");
}

}  // namespace sockit::ftp
