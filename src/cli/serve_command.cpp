// `sockit serve`: every service of a TOML config in one process.
#include "cli/commands.hpp"
#include "net/log.hpp"
#include "services/echo/echo_server.hpp"
#include "services/exec/exec_server.hpp"
#include "services/ftp/ftp_server.hpp"
#include "services/serve/serve_config.hpp"

#include <fmt/format.h>

namespace sockit::cli {

void add_serve_command(CLI::App& app, Action& action) {
  struct Options {
    std::string config;
    bool print_default = false;
    bool print_address = false;
    std::string log_level = "info";
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("serve", "Run every configured service in one process (like inetd)");
  cmd->add_option("-c,--config", options->config, "TOML config file (default: the built-in one)");
  cmd->add_flag("--print-default-config", options->print_default, "Print the built-in config and exit");
  cmd->add_flag("--print-address", options->print_address,
                "Print only the bound addresses, one per line, once listening");
  cmd->add_option("--log-level", options->log_level, "trace, debug, info, warn, error or off");
  cmd->footer(R"(Examples:
  sockit serve                               built-in config: echo on 127.0.0.1:7007 (TCP+UDP),
                                             exec on 127.0.0.1:7022 if ~/.config/sockit/exec.token exists
  sockit serve --print-default-config > sockit.toml
  sockit serve --config sockit.toml
Stops on SIGINT/SIGTERM: stops accepting, gives live sessions [engine] shutdown_grace seconds.)");
  cmd->callback([&action, options] {
    action = [options]() -> int {
      if (options->print_default) {
        fmt::print("{}", serve::default_serve_config());
        return 0;
      }
      net::init_logging(options->log_level);
      auto config = options->config.empty()
                        ? serve::parse_serve_config(serve::default_serve_config(), "built-in config")
                        : serve::load_serve_config(options->config);
      config.supervisor.print_addresses = options->print_address;
      config.supervisor.program = program_name();
      services::Supervisor supervisor(config.supervisor);
      serve::resolve_exec_tokens(config);
      for (auto& echo_config : config.echo) supervisor.add(echo::make_echo_server(echo_config));
      for (auto& exec_config : config.exec) supervisor.add(exec::make_exec_server(exec_config));
      for (auto& recv_config : config.recv) supervisor.add(transfer::make_drop_folder(recv_config));
      for (auto& ftp_config : config.ftp) supervisor.add(ftp::make_ftp_server(ftp_config));
      return supervisor.run();
    };
  });
}

}  // namespace sockit::cli
