// TLS contexts (OpenSSL through Asio) and certificate fingerprints.
// Light header: Asio's SSL headers stay in tls.cpp and stream.cpp.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace boost::asio::ssl {
class context;
}

namespace sockit::net {

using TlsContext = boost::asio::ssl::context;

// A server context from PEM files. Throws StartupError naming the file.
std::shared_ptr<TlsContext> make_server_tls(const std::string& cert_file, const std::string& key_file);

struct SelfSignedPair {
  std::string cert_file;    // DIR/cert.pem
  std::string key_file;     // DIR/key.pem (mode 0600)
  std::string fingerprint;  // of the certificate, as fingerprint_text()
  bool created = false;     // made now, not found
};
// Finds the key pair kept in `dir`, or makes one (ECDSA P-256, self-signed,
// valid 10 years) and keeps it there (dir 0700, written then renamed).
// Throws StartupError.
SelfSignedPair ensure_self_signed(const std::string& dir);

// A client context. With `ca_file`, the server must present a certificate
// chaining to it and matching `host`; without, any certificate is accepted
// by OpenSSL and the caller pins its fingerprint after the handshake.
// Throws std::invalid_argument for an unreadable CA file.
std::shared_ptr<TlsContext> make_client_tls(const std::string& ca_file);

// A client context for the web (sockit get): the server's certificate must
// chain to `ca_file`, or to the system's CAs when it is empty, and match the
// host name (checked in Stream::handshake_client); `insecure` checks
// nothing (curl -k). Throws std::invalid_argument for an unreadable CA file.
std::shared_ptr<TlsContext> make_web_client_tls(const std::string& ca_file, bool insecure);

// SHA-256 of a certificate's DER bytes as "AB:CD:...", what
// `openssl x509 -noout -fingerprint -sha256` prints after its '='.
std::string certificate_fingerprint_file(const std::string& pem_file);
// Parses a fingerprint a user typed: hex, colons optional, any case, an
// optional "sha256:" / "SHA256=" prefix. Nothing unless it is 32 bytes.
std::optional<std::string> normalize_fingerprint(std::string_view text);

}  // namespace sockit::net
