// FTPS (RFC 4217) pieces that need OpenSSL itself: the server context and
// the tags that tie a data connection to its control connection.
//
// A data connection under PROT P must resume the control connection's TLS
// session (vsftpd's require_ssl_reuse), so a third party cannot take over a
// data port even from the client's own address: only the holder of that
// session's secrets can resume it. vsftpd only checks that *some* session
// was resumed; here each control connection's session carries a tag (16
// random bytes) in the server's session cache (TLS 1.2 session ids) and in
// every ticket (TLS 1.2 and 1.3), and a data connection must resume a
// session with the same tag. Every session of one server shares one SSL_CTX
// (its ticket keys and cache), so control and data connections meet there.
#pragma once

#include "net/stream.hpp"
#include "net/tls.hpp"

#include <boost/system/error_code.hpp>

#include <memory>
#include <optional>
#include <string>

namespace sockit::ftp {

// make_server_tls plus what FTPS needs: a session-id context, sessions that
// stay resumable for a week (an FTP session may last long), and the
// callbacks that put tags into tickets. Throws StartupError.
std::shared_ptr<net::TlsContext> make_ftps_context(const std::string& cert_file, const std::string& key_file);

// 16 random bytes.
std::string fresh_session_tag();

// Control connection, before handshake_server: sessions made by this
// handshake are tagged `*tag` (which must outlive the handshake).
void offer_session_tag(net::Stream& control, const std::string* tag);

// Control connection, after its handshake: the tag of its session. A client
// that resumed a session of an earlier control connection keeps that
// session's tag; otherwise the session is tagged `fresh` now.
std::string adopt_session_tag(net::Stream& control, const std::string& fresh);

// Data connection, before its handshake: one TLS 1.3 ticket for a download,
// none for an upload. An uploading client never reads its data connection,
// and closing a socket with unread bytes (a ticket) sends a reset instead of
// a FIN: the end of the upload would look cut. A downloading client reads
// the ticket, and an OpenSSL client then holds a session of its own for the
// data connection, so freeing it without close_notify marks that one, not
// the control connection's, unresumable (what vsftpd's default of sending
// tickets everywhere also gives).
void prepare_data_tls(net::Stream& data, bool upload);

// Before dropping a TLS connection without close_notify (ABOR, a refused
// or failed transfer): OpenSSL would otherwise evict the session it used
// from the server's cache, and a TLS 1.2 client resuming by session id
// could open no further data connection.
void keep_session(net::Stream& stream);

// Data connection, after its handshake: nothing when the client made a new
// session; the resumed session's tag otherwise ("" for an untagged one).
std::optional<std::string> resumed_session_tag(net::Stream& data);

// "TLSv1.3 TLS_AES_256_GCM_SHA384", for logs and STAT.
std::string describe_tls(net::Stream& stream);

// The peer closed TCP without TLS's close_notify (a possible truncation).
bool is_truncation(const boost::system::error_code& ec);

}  // namespace sockit::ftp
