#include "services/ftp/ftps.hpp"

#include "net/startup_error.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/rand.h>
#include <openssl/ssl.h>

namespace sockit::ftp {

namespace {

constexpr unsigned char kSessionContext[] = "sockit-ftp";
// TLS 1.3 caps a ticket's lifetime at 7 days (RFC 8446 4.6.1).
constexpr long kSessionLifetime = 7L * 24 * 3600;

// Where a control connection's SSL points at its fresh tag while it
// handshakes.
int tag_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

bool session_tag(SSL_SESSION* session, std::string& out) {
  void* data = nullptr;
  std::size_t length = 0;
  if (!session || SSL_SESSION_get0_ticket_appdata(session, &data, &length) != 1) return false;
  if (!data || length == 0) return false;
  out.assign(static_cast<const char*>(data), length);
  return true;
}

void set_tag(SSL_SESSION* session, const std::string& tag) {
  SSL_SESSION_set1_ticket_appdata(session, tag.data(), tag.size());
}

// Called as OpenSSL builds each ticket: a session that carries a tag keeps
// it (a resumed one, on a data connection or a returning control
// connection); a new one takes the control connection's fresh tag.
int on_generate_ticket(SSL* ssl, void*) {
  SSL_SESSION* session = SSL_get0_session(ssl);
  std::string existing;
  if (!session || session_tag(session, existing)) return 1;
  if (const auto* fresh = static_cast<const std::string*>(SSL_get_ex_data(ssl, tag_index())))
    set_tag(session, *fresh);
  return 1;
}

// What OpenSSL does without a callback (SSL_CTX_set_session_ticket_cb(3)).
SSL_TICKET_RETURN on_decrypt_ticket(SSL*, SSL_SESSION*, const unsigned char*, std::size_t,
                                    SSL_TICKET_STATUS status, void*) {
  switch (status) {
    case SSL_TICKET_EMPTY:
    case SSL_TICKET_NO_DECRYPT:
      return SSL_TICKET_RETURN_IGNORE_RENEW;
    case SSL_TICKET_SUCCESS:
      return SSL_TICKET_RETURN_USE;
    case SSL_TICKET_SUCCESS_RENEW:
      return SSL_TICKET_RETURN_USE_RENEW;
    default:
      return SSL_TICKET_RETURN_ABORT;
  }
}

}  // namespace

std::shared_ptr<net::TlsContext> make_ftps_context(const std::string& cert_file,
                                                   const std::string& key_file) {
  auto context = net::make_server_tls(cert_file, key_file);
  SSL_CTX* ctx = context->native_handle();
  if (SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1) != 1)
    throw net::StartupError("cannot set the TLS session id context (OpenSSL failed)");
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_timeout(ctx, kSessionLifetime);
  if (SSL_CTX_set_session_ticket_cb(ctx, on_generate_ticket, on_decrypt_ticket, nullptr) != 1)
    throw net::StartupError("cannot set the TLS ticket callbacks (OpenSSL failed)");
  return context;
}

std::string fresh_session_tag() {
  std::string tag(16, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(tag.data()), static_cast<int>(tag.size())) != 1)
    throw std::runtime_error("OpenSSL has no random bytes");
  return tag;
}

void offer_session_tag(net::Stream& control, const std::string* tag) {
  SSL_set_ex_data(control.tls_handle(), tag_index(), const_cast<std::string*>(tag));
}

std::string adopt_session_tag(net::Stream& control, const std::string& fresh) {
  SSL* ssl = control.tls_handle();
  SSL_set_ex_data(ssl, tag_index(), nullptr);
  SSL_SESSION* session = SSL_get0_session(ssl);
  std::string tag;
  if (session_tag(session, tag)) return tag;
  // A TLS 1.2 session without a ticket: the cache holds this very session
  // object, so a data connection resuming its id finds the tag there.
  if (session) set_tag(session, fresh);
  return fresh;
}

void prepare_data_tls(net::Stream& data, bool upload) {
  SSL_set_num_tickets(data.tls_handle(), upload ? 0 : 1);
}

void keep_session(net::Stream& stream) {
  if (SSL* ssl = stream.tls_handle()) SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_SENT_SHUTDOWN);
}

std::optional<std::string> resumed_session_tag(net::Stream& data) {
  SSL* ssl = data.tls_handle();
  if (!ssl || SSL_session_reused(ssl) != 1) return std::nullopt;
  std::string tag;
  session_tag(SSL_get0_session(ssl), tag);
  return tag;
}

std::string describe_tls(net::Stream& stream) {
  SSL* ssl = stream.tls_handle();
  if (!ssl) return "plain";
  return std::string(SSL_get_version(ssl)) + " " + SSL_get_cipher_name(ssl);
}

bool is_truncation(const boost::system::error_code& ec) {
  return ec == boost::asio::ssl::error::stream_truncated;
}

}  // namespace sockit::ftp
