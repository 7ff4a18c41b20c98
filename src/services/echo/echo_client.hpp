// The echo client: `sockit echo ADDR`.
//  - stdin a terminal: a `>> ` prompt, one message per line, each reply printed.
//  - stdin not a terminal: TCP/Unix stream stdin to the server, half-close at
//    EOF and print everything until the server closes; UDP sends a datagram
//    per line and waits for each reply.
#pragma once

#include "services/prompt.hpp"

#include <chrono>
#include <string>

namespace sockit::echo {

struct EchoClientOptions {
  std::string address;  // host:port, udp://host:port, unix:/path
  bool udp = false;
  std::chrono::milliseconds timeout{5000};
};

// Returns the exit code: 0 done, 1 unreachable/refused/gone/timed out
// (a one-line "sockit: ..." on stderr), 2 bad address.
// `prompt` is used when stdin is a terminal.
int run_echo_client(const EchoClientOptions& options, services::Prompt& prompt);

}  // namespace sockit::echo
