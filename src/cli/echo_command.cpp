// `sockit echo serve ...` (the server) and `sockit echo ADDR` (the client).
#include "cli/commands.hpp"
#include "cli/line_editor.hpp"
#include "cli/serve_flags.hpp"
#include "services/echo/echo_client.hpp"
#include "services/echo/echo_server.hpp"

namespace sockit::cli {

void add_echo_command(CLI::App& app, Action& action) {
  struct Options {
    echo::EchoClientOptions client;
    double timeout_s = 5;
    echo::EchoConfig server;
    std::string mode = "echo";
    std::string reply;
    long idle_s = 300;
    long pause_ms = 20;
    ServeFlags serve_flags;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("echo", "Echo client, or echo server with 'echo serve'");
  cmd->add_option("address", o->client.address,
                  "Server: host:port, [v6]:port, udp://host:port or unix:/path");
  cmd->add_flag("-u,--udp", o->client.udp, "Use UDP (same as a udp:// address)");
  cmd->add_option("-t,--timeout", o->timeout_s, "Seconds to wait for the server (default 5)")
      ->check(CLI::PositiveNumber);
  cmd->footer(R"(Examples:
  sockit echo 127.0.0.1:7007                 a >> prompt: each line sent, each reply printed
  printf 'a\nb\n' | sockit echo 127.0.0.1:7007   stdin streamed, replies to stdout
  sockit echo udp://127.0.0.1:7007           one datagram per line
  sockit echo unix:/tmp/echo.sock
Exit codes: 0 done, 1 server unreachable, refused, gone or silent, 2 bad usage.)");

  auto* serve = cmd->add_subcommand("serve", "Run an echo server (TCP, UDP, Unix)");
  auto& s = o->server;
  s.tcp.clear();
  serve->add_option("--tcp", s.tcp, "TCP address to listen on (repeatable), e.g. 127.0.0.1:7007");
  serve->add_option("--udp", s.udp, "UDP address to listen on (repeatable)");
  serve->add_option("--unix", s.unix_paths, "Unix socket path to listen on (repeatable)");
  serve->add_option("--mode", o->mode,
                    "echo (bytes back), upper (ASCII upper-cased), hello (Welcome!/Hello, NAME!)");
  serve->add_option("--reply", o->reply, "Answer each message with TEMPLATE: {msg}, {peer}");
  serve->add_option("--max-connections", s.max_connections,
                    "Connections at once (0: no limit; default 10000)");
  serve->add_option("--max-per-ip", s.max_per_ip,
                    "Connections at once from one IP (0: no limit; default 1000)");
  serve->add_option("--idle-timeout", o->idle_s, "Close a connection silent this many seconds (default 300)")
      ->check(CLI::Range(1L, 7L * 24 * 3600));
  serve
      ->add_option("--max-message", s.max_message,
                   "Longest message in hello/reply modes, bytes (default 65536)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{16} << 20));
  serve
      ->add_option("--pause-ms", o->pause_ms,
                   "Quiet after which bytes without a newline are a message (default 20)")
      ->check(CLI::Range(1L, 10000L));
  serve->add_option("--backlog", s.backlog, "Listen backlog (default 1024)")->check(CLI::Range(1, 65535));
  o->serve_flags.add_to(serve);
  serve->footer(R"(Examples:
  sockit echo serve                              TCP and UDP on 127.0.0.1:7007
  sockit echo serve --tcp 0.0.0.0:7007 --mode upper
  sockit echo serve --tcp 127.0.0.1:0 --print-address     any free port, printed
  sockit echo serve --unix /tmp/echo.sock --mode hello
  sockit echo serve --tcp :: --reply 'Received msg: {msg} from {peer}'
In hello and reply modes a message is a line, or what a client sent before pausing.)");

  serve->callback([&action, o] {
    action = [o]() -> int {
      auto config = o->server;
      if (config.tcp.empty() && config.udp.empty() && config.unix_paths.empty()) {
        config.tcp = {"127.0.0.1:7007"};
        config.udp = {"127.0.0.1:7007"};
      }
      config.mode = echo::parse_mode(o->mode);
      if (!o->reply.empty()) {
        if (o->mode != "echo") throw std::invalid_argument("give either --mode or --reply, not both");
        config.mode = echo::Mode::reply;
        config.reply_template = o->reply;
      }
      config.name = "main";
      config.idle_timeout = std::chrono::seconds(o->idle_s);
      config.pause = std::chrono::milliseconds(o->pause_ms);
      return o->serve_flags.run([&] { return echo::make_echo_server(std::move(config)); });
    };
  });

  cmd->callback([&action, o, serve] {
    if (serve->parsed()) return;
    if (o->client.address.empty())
      throw CLI::ValidationError("echo", "give a server address (sockit echo HOST:PORT) or 'serve'");
    action = [o]() -> int {
      o->client.timeout = std::chrono::milliseconds(static_cast<long>(o->timeout_s * 1000));
      LineEditor editor("echo");
      return echo::run_echo_client(o->client, editor);
    };
  });
}

}  // namespace sockit::cli
