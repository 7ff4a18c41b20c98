// Each subcommand adds itself to the app and says what to run if chosen.
#pragma once

#include <CLI/App.hpp>

#include <functional>
#include <string>

namespace sockit::cli {

using Action = std::function<int()>;

// How the user started us (argv[0]), so hints name a command that works:
// `./build/release/sockit echo ...` when sockit is not on the PATH.
const std::string& program_name();

void add_serve_command(CLI::App& app, Action& action);
void add_echo_command(CLI::App& app, Action& action);
void add_exec_command(CLI::App& app, Action& action);
void add_transfer_commands(CLI::App& app, Action& action);  // send, recv
void add_ftp_command(CLI::App& app, Action& action);
// The client's options on the `ftp` command (a URL, -e, --tls, ...).
void add_ftp_client(CLI::App* ftp, Action& action);
void add_get_command(CLI::App& app, Action& action);
void add_chat_command(CLI::App& app, Action& action);

}  // namespace sockit::cli
