// sockit: one binary, a subcommand per tool. This file only wires them up.
#include "cli/commands.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <sys/resource.h>

#include <csignal>
#include <stdexcept>

#include "net/startup_error.hpp"

namespace {
std::string invoked_as = "sockit";
}  // namespace

const std::string& sockit::cli::program_name() {
  return invoked_as;
}

namespace {

// Servers hold a descriptor per connection: use the whole hard limit.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 0 && argv[0][0] != '\0') invoked_as = argv[0];
  std::signal(SIGPIPE, SIG_IGN);  // a vanished peer is an error code, not a death
  raise_descriptor_limit();

  CLI::App app{"sockit: the socket tutorials' programs, made into real tools."};
  app.set_version_flag("--version", "sockit 0.1.0");
  app.require_subcommand(1);
  app.footer(R"(Examples:
  sockit serve                         run the built-in services (echo on 127.0.0.1:7007)
  sockit echo serve --tcp 0.0.0.0:7007 --mode upper
  sockit echo 127.0.0.1:7007           talk to an echo server at a >> prompt
  sockit exec 127.0.0.1 -- uname -a    run a command on a sockit exec server
  sockit recv --dir in                 wait for files; on the other machine: sockit send HOST FILE...
  sockit ftp serve --root ./share      share a folder read-only over FTP (anonymous)
  sockit ftp ftp://host/pub -e 'mget *.iso'   an FTP client: a shell, or commands with -e
  sockit get -O https://host/file.iso  download, resumable (-c), in ranges (--split 4)
  sockit chat --to 192.168.1.20        LAN chat with an IP Messenger / sockit / tutorial peer

Run 'sockit COMMAND --help' for a command's options and examples.)");

  sockit::cli::Action action;
  sockit::cli::add_serve_command(app, action);
  sockit::cli::add_echo_command(app, action);
  sockit::cli::add_exec_command(app, action);
  sockit::cli::add_transfer_commands(app, action);
  sockit::cli::add_ftp_command(app, action);
  sockit::cli::add_get_command(app, action);
  sockit::cli::add_chat_command(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "sockit: {} (see sockit --help)\n", e.what());
    return 2;
  }

  try {
    return action ? action() : 2;
  } catch (const sockit::net::StartupError& e) {
    fmt::print(stderr, "sockit: {}\n", e.what());
    return 1;
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "sockit: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "sockit: {}\n", e.what());
    return 1;
  }
}
