// Each subcommand adds itself to the app and says what to run if chosen.
#pragma once

#include <CLI/App.hpp>

#include <functional>

namespace sockit::cli {

using Action = std::function<int()>;

void add_serve_command(CLI::App& app, Action& action);
void add_echo_command(CLI::App& app, Action& action);

}  // namespace sockit::cli
