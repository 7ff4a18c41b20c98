// The exec client: `sockit exec HOST[:PORT] [--] COMMAND...` runs COMMAND
// remotely with stdin, stdout and stderr as if it ran here; without a
// COMMAND, a `>> ` prompt runs one command line after another (or, when
// stdin is not a terminal, one command per line of stdin) over one
// connection.
#pragma once

#include "services/prompt.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace sockit::exec {

inline constexpr std::uint16_t kDefaultPort = 7022;
inline constexpr int kClientFailure = 255;  // as ssh: connection, TLS, auth, protocol

struct ExecClientOptions {
  std::string address;               // HOST[:PORT], [v6][:PORT], unix:/path
  std::vector<std::string> command;  // empty: one command per line from the prompt
  std::string token_file;            // else $SOCKIT_TOKEN
  bool tls = false;
  std::string fingerprint;  // pinned (implies tls)
  std::string cacert;       // verify against this CA (implies tls)
  std::string known_hosts;  // empty: default_known_hosts()
  bool no_stdin = false;    // -n
  std::chrono::milliseconds connect_timeout{10000};
};

// Returns the remote command's exit status (128+N for signal N), 255 when
// the connection, TLS, authentication or the protocol failed (with one line
// on stderr), 2 for bad usage. `prompt` serves interactive use.
int run_exec_client(const ExecClientOptions& options, services::Prompt& prompt);

}  // namespace sockit::exec
