#include "net/tls.hpp"

#include "net/startup_error.hpp"

#include <boost/asio/ssl/context.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace sockit::net {
namespace ssl = boost::asio::ssl;
namespace fs = std::filesystem;

namespace {

template <typename T, void (*Free)(T*)>
struct Freer {
  void operator()(T* p) const { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, Freer<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Freer<EVP_PKEY, EVP_PKEY_free>>;

std::string hex_fingerprint(const unsigned char* digest, unsigned length) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string text;
  for (unsigned i = 0; i < length; ++i) {
    if (i) text += ':';
    text += kHex[digest[i] >> 4];
    text += kHex[digest[i] & 15];
  }
  return text;
}

std::string fingerprint_of(X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &length) != 1) return {};
  return hex_fingerprint(digest, length);
}

X509Ptr read_certificate(const std::string& pem_file) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(pem_file.c_str(), "rb"), &std::fclose);
  if (!file) return nullptr;
  return X509Ptr(PEM_read_X509(file.get(), nullptr, nullptr, nullptr));
}

// Writes `write(FILE*)` to `path` through a temporary file with `mode`,
// renamed into place only once complete.
template <typename Write>
void write_file_atomically(const fs::path& path, mode_t mode, Write write) {
  fs::path temp = path;
  temp += ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw StartupError("cannot write " + temp.string() + ": " + std::strerror(errno));
  FILE* file = ::fdopen(fd, "wb");
  bool ok = file && write(file) == 1;
  ok = file && std::fflush(file) == 0 && ::fsync(fd) == 0 && ok;
  if (file) std::fclose(file);
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    throw StartupError("cannot write " + path.string());
  }
}

void make_self_signed(const fs::path& cert_path, const fs::path& key_path) {
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  X509Ptr cert(X509_new());
  if (!key || !cert) throw StartupError("cannot make a TLS key pair (OpenSSL failed)");
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // a positive serial number
  std::unique_ptr<BIGNUM, Freer<BIGNUM, BN_free>> serial_bn(BN_bin2bn(serial, sizeof serial, nullptr));
  X509_set_version(cert.get(), 2);
  BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("sockit"), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    throw StartupError("cannot sign the self-signed certificate (OpenSSL failed)");
  // The key first: a certificate without its key would be found and fail.
  write_file_atomically(key_path, 0600, [&](FILE* f) {
    return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  write_file_atomically(cert_path, 0644, [&](FILE* f) { return PEM_write_X509(f, cert.get()); });
}

}  // namespace

std::shared_ptr<TlsContext> make_server_tls(const std::string& cert_file, const std::string& key_file) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  boost::system::error_code ec;
  context->use_certificate_chain_file(cert_file, ec);
  if (ec) throw StartupError("TLS certificate " + cert_file + ": cannot use it (" + ec.message() + ")");
  context->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) throw StartupError("TLS key " + key_file + ": cannot use it (" + ec.message() + ")");
  if (SSL_CTX_check_private_key(context->native_handle()) != 1)
    throw StartupError("TLS key " + key_file + " does not match the certificate " + cert_file);
  return context;
}

SelfSignedPair ensure_self_signed(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw StartupError("cannot create " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  SelfSignedPair pair{(fs::path(dir) / "cert.pem").string(), (fs::path(dir) / "key.pem").string(), {}, false};
  if (!fs::exists(pair.cert_file) || !fs::exists(pair.key_file)) {
    make_self_signed(pair.cert_file, pair.key_file);
    pair.created = true;
  }
  pair.fingerprint = certificate_fingerprint_file(pair.cert_file);
  if (pair.fingerprint.empty()) throw StartupError(pair.cert_file + ": not a PEM certificate");
  return pair;
}

std::shared_ptr<TlsContext> make_client_tls(const std::string& ca_file) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (ca_file.empty()) {
    context->set_verify_mode(ssl::verify_none);  // pinned by fingerprint after the handshake
    return context;
  }
  boost::system::error_code ec;
  context->load_verify_file(ca_file, ec);
  if (ec) throw std::invalid_argument("CA file " + ca_file + ": cannot use it (" + ec.message() + ")");
  context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return context;
}

std::shared_ptr<TlsContext> make_web_client_tls(const std::string& ca_file, bool insecure) {
  if (insecure) return make_client_tls("");
  if (!ca_file.empty()) return make_client_tls(ca_file);
  auto context = make_client_tls("");
  boost::system::error_code ec;
  context->set_default_verify_paths(ec);
  if (ec) throw std::invalid_argument("cannot load the system's CA certificates: " + ec.message());
  context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return context;
}

std::string certificate_fingerprint_file(const std::string& pem_file) {
  auto cert = read_certificate(pem_file);
  return cert ? fingerprint_of(cert.get()) : std::string{};
}

std::optional<std::string> normalize_fingerprint(std::string_view text) {
  for (std::string_view prefix : {"sha256:", "sha256=", "SHA256:", "SHA256="})
    if (text.starts_with(prefix)) text.remove_prefix(prefix.size());
  std::string hex;
  for (char c : text) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    hex += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (hex.size() != 64) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    if (i) out += ':';
    out += hex.substr(i, 2);
  }
  return out;
}

// Used by stream.cpp.
std::string peer_certificate_fingerprint(SSL* ssl) {
  X509Ptr cert(SSL_get1_peer_certificate(ssl));
  return cert ? fingerprint_of(cert.get()) : std::string{};
}

}  // namespace sockit::net
