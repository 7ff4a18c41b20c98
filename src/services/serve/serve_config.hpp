// The `sockit serve` configuration: one TOML file, one table per service
// instance ([echo.NAME], later [exec.NAME], [ftp.NAME] ...). Unknown keys
// are errors, so a typo never silently falls back to a default.
#pragma once

#include "services/echo/echo_config.hpp"
#include "services/exec/exec_config.hpp"
#include "services/ftp/ftp_config.hpp"
#include "services/supervisor.hpp"
#include "services/transfer/drop_folder.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sockit::serve {

struct ServeConfig {
  services::SupervisorOptions supervisor;
  std::vector<echo::EchoConfig> echo;
  // Tokens are not read here (parsing touches no files): see
  // resolve_exec_tokens().
  std::vector<exec::ExecConfig> exec;
  std::vector<transfer::DropFolderConfig> recv;  // drop folders (none by default)
  std::vector<ftp::FtpConfig> ftp;               // FTP servers (none by default)
};

// Reads each exec service's token (its token_file, else SOCKIT_TOKEN) and
// drops the services that may run without one. Throws std::invalid_argument.
void resolve_exec_tokens(ServeConfig& config);

// Throws std::invalid_argument: "FILE:LINE: echo.main.mode: ..." in one line.
ServeConfig parse_serve_config(std::string_view toml_text, std::string_view source_name);
ServeConfig load_serve_config(const std::string& path);

// The built-in configuration `sockit serve` runs without --config.
std::string_view default_serve_config();

}  // namespace sockit::serve
