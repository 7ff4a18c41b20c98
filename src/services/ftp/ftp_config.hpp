// Settings of one FTP service instance: what `sockit ftp serve` flags and a
// `[ftp.NAME]` section of the serve config both fill in. Limits and their
// defaults are listed in docs/ftp.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sockit::ftp {

struct FtpConfig {
  std::string name = "main";  // instance name for logs
  std::vector<std::string> listen;
  std::string root;           // served to anonymous (and default root of accounts)
  bool create_root = false;   // make `root` (not its parents) if it is missing
  std::string accounts_file;  // TOML; empty: anonymous read-only on root

  // Passive data ports: each PASV/EPSV takes a random free one of these.
  std::uint16_t passive_min = 49152;
  std::uint16_t passive_max = 65534;

  std::size_t max_connections = 1000;
  std::size_t max_per_ip = 256;
  std::size_t max_line = 4096;                       // bytes of one command line
  std::chrono::milliseconds login_timeout{60'000};   // from connect to a successful PASS
  std::chrono::milliseconds idle_timeout{300'000};   // waiting for a command
  std::chrono::milliseconds data_timeout{60'000};    // a data connection moving no byte
  std::chrono::milliseconds accept_timeout{15'000};  // passive accept / active connect
  std::chrono::milliseconds auth_delay{1'000};       // before answering a failed PASS
  unsigned max_login_failures = 3;                   // per session, then it is closed
  unsigned max_ip_failures = 20;                     // per IP within lockout, then refused
  std::chrono::seconds lockout{900};
  bool allow_foreign_port = false;  // PORT/EPRT to another address than the client's (FXP)
  std::string xferlog;              // transfer log in xferlog(5) format; empty: none
  int backlog = 1024;
  std::string banner = "sockit FTP server ready.";

  // FTPS (RFC 4217, explicit: AUTH TLS on the control connection, PROT P
  // for data). TLS is offered with a certificate and key, or with a
  // self-signed pair made once and kept in tls_dir.
  std::string tls_cert;  // PEM chain
  std::string tls_key;   // PEM
  bool tls_self_signed = false;
  std::string tls_dir;       // default: default_ftp_tls_dir()
  bool require_tls = false;  // logins need AUTH TLS first, transfers PROT P
  // With require_tls: anonymous may still log in and transfer in clear
  // (vsftpd's default: force_anon_*_ssl=NO).
  bool plain_anonymous = false;
  std::chrono::milliseconds tls_timeout{10'000};  // a TLS handshake, or the close_notify exchange
  bool tls() const { return tls_self_signed || !tls_cert.empty(); }
};

// Where tls_self_signed keeps its pair: $XDG_STATE_HOME (or ~/.local/state)
// + sockit/ftp-tls.
std::string default_ftp_tls_dir();

// "50000-50100" -> min and max; throws std::invalid_argument.
void parse_port_range(const std::string& text, FtpConfig& config);

// Checks what can be checked without binding. Throws std::invalid_argument.
void validate(const FtpConfig& config);

}  // namespace sockit::ftp
