// From a RUN frame to what to execute: the shell or the argument vector,
// the allow list, the program looked up on PATH. No processes here.
#pragma once

#include "codec/exec_messages.hpp"
#include "services/exec/exec_config.hpp"

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace sockit::exec {

struct PreparedCommand {
  std::string program;            // an absolute or relative path to execute
  std::vector<std::string> args;  // arguments after the program name
};

// Why a command does not start, as a shell would say it.
struct Refusal {
  std::uint8_t exit_code;  // 126: not allowed / not executable, 127: not found
  std::string message;     // one line, sent as the command's stderr
};

// `path` is the PATH to search (the server's).
std::variant<PreparedCommand, Refusal> prepare_command(const codec::exec::Run& run, const ExecConfig& config,
                                                       const std::string& path);

}  // namespace sockit::exec
