// FtpShell: the commands of `sockit ftp` (open, ls, get, put, mget, ...),
// run one by one at an interactive prompt or from a script (-e). The CLI
// gives it the prompt, the password question and the progress display.
#pragma once

#include "services/ftp_client/ftp_client.hpp"
#include "services/prompt.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sockit::transfer {
class Progress;
}

namespace sockit::ftp_client {

struct ShellOptions {
  // ftp://[user[:password]@]host[:port][/path] (or ftps://) opened first;
  // empty: not connected until 'open'.
  std::string url;
  // Timeouts, passive or active, trace; host and security come from each
  // URL opened.
  ClientOptions client;
  bool explicit_tls = false;  // --tls: AUTH TLS on every ftp:// connection, or fail
  std::string cacert;         // --cacert
  bool insecure = false;      // -k
  // Asks for a password without echo; nothing when there is no terminal.
  std::function<std::optional<std::string>(const std::string& prompt)> ask_secret;
  // A progress display for one transfer (nullptr: none); `upload` picks
  // the wording.
  std::function<std::unique_ptr<transfer::Progress>(bool upload)> make_progress;
  bool interactive = false;  // a person at a prompt: summaries and replies shown
  bool verbose = false;      // protocol lines on stderr (the 'verbose' command toggles it)
};

// Exit status of a script: 0 when every command succeeded; else the first
// failure's (1 a failed command, 2 a command that cannot be understood),
// after one line on stderr.
int run_ftp_script(const ShellOptions& options, const std::vector<std::string>& commands);

// The interactive shell: reads commands from `prompt` until bye or end of
// input; a failed command is reported and the next one read. Returns 0,
// or the last failure's status when the input ended (not bye) after one.
int run_ftp_shell(const ShellOptions& options, services::Prompt& prompt);

}  // namespace sockit::ftp_client
