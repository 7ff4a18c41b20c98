// The user's side of `sockit chat`: reads lines (commands and messages) and
// shows what the ChatPeer reports.
//  - stdin a terminal: a libedit prompt; events in the tutorial's style,
//    "[12:01:02] from alice [127.0.0.1:8081]: hi".
//  - otherwise, scriptable: one event per line on stdout, lines from stdin;
//    at the end of input it waits until every message is delivered or failed.
// Formats: docs/chat.md.
#pragma once

#include "services/chat/chat_config.hpp"
#include "services/prompt.hpp"

#include <optional>
#include <string>

namespace sockit::chat {

struct ConsoleOptions {
  std::string to;              // the initial recipient (--to), may be empty
  std::optional<bool> script;  // forced; default: stdin is not a terminal
};

// Returns the exit code: 0 every message delivered (or sent), 1 some failed.
// Throws net::StartupError (cannot bind) and std::invalid_argument (bad
// address or contact) for the CLI to report.
int run_chat(ChatConfig config, const ConsoleOptions& options, services::Prompt& prompt);

}  // namespace sockit::chat
