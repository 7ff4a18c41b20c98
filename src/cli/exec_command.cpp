// `sockit exec serve ...` (the server) and `sockit exec HOST -- COMMAND` (the client).
#include "cli/commands.hpp"
#include "cli/line_editor.hpp"
#include "cli/serve_flags.hpp"
#include "services/exec/exec_client.hpp"
#include "services/exec/exec_server.hpp"
#include "services/exec/token.hpp"

#include <cstdlib>

namespace sockit::cli {

namespace {

// The server's token; taken out of the environment, so the commands it runs
// never see it.
std::string server_token(const std::string& file) {
  auto token = exec::load_token(file);
  ::unsetenv(exec::kTokenEnvironment);
  if (!token)
    throw std::invalid_argument(
        "no token: give --token-file FILE or set SOCKIT_TOKEN (never on the command line); make one with: "
        "head -c 32 /dev/urandom | base64 > FILE");
  return *token;
}

}  // namespace

void add_exec_command(CLI::App& app, Action& action) {
  struct Options {
    exec::ExecClientOptions client;
    double connect_timeout_s = 10;
    exec::ExecConfig server;
    std::string token_file;
    long timeout_s = 0;
    long auth_timeout_s = 10;
    long auth_delay_ms = 1000;
    long idle_s = 600;
    bool no_shell = false;
    ServeFlags serve_flags;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("exec", "Run commands on a sockit exec server, or serve with 'exec serve'");
  cmd->prefix_command();  // HOST, then COMMAND with its own options, untouched
  cmd->add_option("--token-file", o->client.token_file, "File holding the token (else $SOCKIT_TOKEN)");
  cmd->add_flag("--tls", o->client.tls, "Connect with TLS (trust on first use unless pinned)");
  cmd->add_option("--fingerprint", o->client.fingerprint,
                  "Pin the server certificate's SHA-256 (hex, colons optional); implies --tls");
  cmd->add_option("--cacert", o->client.cacert, "Verify the server against this CA file; implies --tls");
  cmd->add_option("--known-hosts", o->client.known_hosts,
                  "Fingerprints trusted on first use (default ~/.local/state/sockit/known_hosts)");
  cmd->add_flag("-n", o->client.no_stdin, "Do not read stdin (the command gets end of input at once)");
  cmd->add_option("--connect-timeout", o->connect_timeout_s,
                  "Seconds to wait for the connection (default 10)")
      ->check(CLI::PositiveNumber);
  cmd->footer(R"(Usage: sockit exec [OPTIONS] HOST[:PORT] [--] [COMMAND...]
Examples:
  export SOCKIT_TOKEN=$(cat ~/.config/sockit/exec.token)
  sockit exec 127.0.0.1 -- uname -a             port 7022 unless given
  tar c dir | sockit exec host -- tar x -C /dst  stdin streamed to the command
  sockit exec --fingerprint 3F:A2:... host -- df -h
  sockit exec 127.0.0.1                         a >> prompt: one command per line
Exit status: the command's (128+N if killed by signal N); 255 if the connection,
TLS or authentication failed; 2 for bad usage. Ctrl-C interrupts the remote command.)");

  auto* serve = cmd->add_subcommand("serve", "Run an exec server");
  auto& s = o->server;
  serve->add_option("--listen", s.listen, "TCP host:port or unix:/path (repeatable; default 127.0.0.1:7022)");
  serve->add_option("--token-file", o->token_file, "File holding the token (else $SOCKIT_TOKEN)");
  serve->add_option("--tls-cert", s.tls_cert, "TLS certificate (PEM)");
  serve->add_option("--tls-key", s.tls_key, "TLS private key (PEM)");
  serve->add_flag("--tls-self-signed", s.tls_self_signed,
                  "TLS with a key pair made once and kept in --tls-dir");
  serve->add_option("--tls-dir", s.tls_dir,
                    "Where --tls-self-signed keeps its pair (default ~/.local/state/sockit/exec-tls)");
  serve->add_flag("--no-shell", o->no_shell, "Execute the argument vector, not /bin/sh -c");
  serve->add_option("--allow", s.allow, "Only these programs may run (comma-separated; needs --no-shell)")
      ->delimiter(',');
  serve->add_option("--dir", s.dir, "Working directory of commands");
  serve->add_option("--timeout", o->timeout_s, "Kill a command after this many seconds (default 0: never)")
      ->check(CLI::Range(0L, 365L * 24 * 3600));
  serve->add_option("--max-output", s.max_output,
                    "Kill a command after this many output bytes (0: no limit)");
  serve->add_option("--max-connections", s.max_connections, "Connections at once (default 256)");
  serve->add_option("--max-per-ip", s.max_per_ip, "Connections at once from one IP (default 32)");
  serve->add_option("--auth-timeout", o->auth_timeout_s, "Seconds a client has to authenticate (default 10)")
      ->check(CLI::Range(1L, 3600L));
  serve
      ->add_option("--auth-delay-ms", o->auth_delay_ms, "Delay before answering a wrong token (default 1000)")
      ->check(CLI::Range(0L, 60000L));
  serve->add_option("--max-auth-failures", s.max_auth_failures,
                    "Failures from one IP within 10 minutes before it is locked out (default 10)");
  serve
      ->add_option("--idle-timeout", o->idle_s,
                   "Close a connection idle between commands this long (default 600)")
      ->check(CLI::Range(1L, 7L * 24 * 3600));
  o->serve_flags.add_to(serve);
  serve->footer(R"(Examples:
  head -c 32 /dev/urandom | base64 > ~/.config/sockit/exec.token; chmod 600 ~/.config/sockit/exec.token
  sockit exec serve --token-file ~/.config/sockit/exec.token              127.0.0.1:7022
  sockit exec serve --listen 0.0.0.0:7022 --token-file t --tls-self-signed   prints the fingerprint
  sockit exec serve --listen unix:/run/exec.sock --token-file t --no-shell --allow uptime,df
Addresses other than loopback and Unix sockets need TLS.)");

  serve->callback([&action, o] {
    action = [o]() -> int {
      auto config = o->server;
      if (config.listen.empty()) config.listen = {"127.0.0.1:7022"};
      config.name = "main";
      config.token = server_token(o->token_file);
      config.shell = !o->no_shell;
      config.timeout = std::chrono::seconds(o->timeout_s);
      config.auth_timeout = std::chrono::seconds(o->auth_timeout_s);
      config.auth_delay = std::chrono::milliseconds(o->auth_delay_ms);
      config.idle_timeout = std::chrono::seconds(o->idle_s);
      return o->serve_flags.run([&] { return exec::make_exec_server(std::move(config)); });
    };
  });

  cmd->callback([&action, o, cmd, serve] {
    if (serve->parsed()) return;
    auto rest = cmd->remaining();
    if (rest.empty())
      throw CLI::ValidationError("exec", "give a server (sockit exec HOST -- COMMAND) or 'serve'");
    // Options go before HOST; prefix_command() hands an unknown one over as
    // if it were the host.
    if (rest.front().starts_with("-"))
      throw CLI::ValidationError("exec", "unknown option " + rest.front() + " (options go before HOST)");
    o->client.address = rest.front();
    auto command_begin = rest.begin() + 1;
    if (command_begin != rest.end() && *command_begin == "--") ++command_begin;
    o->client.command.assign(command_begin, rest.end());
    action = [o]() -> int {
      o->client.connect_timeout = std::chrono::milliseconds(static_cast<long>(o->connect_timeout_s * 1000));
      LineEditor editor("exec");
      return exec::run_exec_client(o->client, editor);
    };
  });
}

}  // namespace sockit::cli
