// Settings of one exec service instance: what `sockit exec serve` flags and
// an `[exec.NAME]` section of the serve config both fill in (docs/exec.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace sockit::exec {

struct ExecConfig {
  std::string name = "exec";
  std::vector<std::string> listen;  // tcp host:port or unix:/path
  std::string token;                // the secret itself (from a file or SOCKIT_TOKEN)
  std::string token_file;           // serve config: where the token is read from at start
  bool skip_without_token = false;  // serve config: no token means "not started", not an error

  // TLS: a certificate and key, or a self-signed pair kept in tls_dir.
  std::string tls_cert;
  std::string tls_key;
  bool tls_self_signed = false;
  std::string tls_dir;  // default: ~/.local/state/sockit/exec-tls

  bool shell = true;               // /bin/sh -c, or the argument vector as is
  std::vector<std::string> allow;  // programs that may run; empty: any (needs shell = false)
  std::string dir;                 // working directory of commands; empty: the server's

  // Limits (0 = none where it makes sense). Documented in docs/exec.md.
  std::chrono::seconds timeout{0};
  std::uint64_t max_output = 0;  // bytes of stdout + stderr per command
  std::size_t max_connections = 256;
  std::size_t max_per_ip = 32;
  std::chrono::seconds auth_timeout{10};
  std::chrono::milliseconds auth_delay{1000};
  unsigned max_auth_failures = 10;  // per IP within lockout
  std::chrono::seconds lockout{600};
  std::chrono::seconds idle_timeout{600};  // between commands
  std::size_t max_frame = 1024 * 1024;
  int backlog = 1024;
};

inline constexpr std::size_t kMinTokenLength = 16;

// Checks what can be checked before binding: addresses parse, a token of at
// least kMinTokenLength bytes, TLS off loopback, --allow only without shell.
// Throws std::invalid_argument with a one-line message.
void validate(const ExecConfig& config);

// The default TLS directory: $XDG_STATE_HOME or ~/.local/state, + sockit/exec-tls.
std::string default_tls_dir();

}  // namespace sockit::exec
