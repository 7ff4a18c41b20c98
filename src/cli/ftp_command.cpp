// `sockit ftp serve ...` (the server) and `sockit ftp passwd` (a password
// hash for the accounts file).
#include "cli/commands.hpp"
#include "cli/serve_flags.hpp"
#include "services/ftp/accounts.hpp"
#include "services/ftp/ftp_server.hpp"

#include <fmt/format.h>

#include <termios.h>
#include <unistd.h>

#include <iostream>

namespace sockit::cli {

namespace {

// A line from stdin; without echo when stdin is a terminal.
std::string read_secret(const char* prompt) {
  bool tty = ::isatty(STDIN_FILENO);
  termios saved{};
  if (tty) {
    fmt::print(stderr, "{}", prompt);
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    fmt::print(stderr, "\n");
  }
  if (!got) throw std::invalid_argument("no password given (type one, or pipe it on stdin)");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

void add_ftp_command(CLI::App& app, Action& action) {
  struct Options {
    ftp::FtpConfig server;
    std::string passive_ports;
    double login_timeout_s = 60, idle_timeout_s = 300, data_timeout_s = 60, accept_timeout_s = 15,
           tls_timeout_s = 10;
    long auth_delay_ms = 1000;
    ServeFlags serve_flags;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "ftp", "FTP client ('ftp URL'), server ('ftp serve') and password hashes ('ftp passwd')");
  cmd->require_subcommand(0, 1);
  add_ftp_client(cmd, action);  // ftp_client_command.cpp: the URL, -e and the client's options
  cmd->footer(R"(Examples:
  sockit ftp ftp://ftp.example.org/pub                an interactive shell (ls, cd, get, put, mget, ...)
  sockit ftp ftp://bob@host/ -e 'cd in; put a.txt'    run commands and exit (0 only if all succeed)
  sockit ftp ftps://host/ -e 'mget *.iso'             FTPS (TLS from the start); --tls for AUTH TLS on ftp://
  sockit ftp serve --root ./share                     anonymous read-only on 127.0.0.1:2121
  sockit ftp serve --listen 0.0.0.0:21 --root /srv/ftp --accounts ftp-users.toml
  sockit ftp passwd >> hash.txt                       an argon2id hash for the accounts file
Type 'help' in the shell for its commands. See docs/ftp-client.md for the client,
docs/ftp.md for the server's accounts file and every limit.)");

  auto* serve = cmd->add_subcommand("serve", "Run an FTP server");
  auto& s = o->server;
  serve->add_option("--listen", s.listen, "Address to listen on (repeatable; default 127.0.0.1:2121)");
  serve->add_option("--root", s.root, "Folder shared to anonymous (and default root of accounts)");
  serve->add_option("--accounts", s.accounts_file, "TOML accounts file (real, guest, anonymous)");
  serve->add_option("--passive-ports", o->passive_ports, "Passive data ports MIN-MAX (default 49152-65534)");
  serve->add_option("--max-connections", s.max_connections, "Sessions at once (0: no limit; default 1000)");
  serve->add_option("--max-per-ip", s.max_per_ip, "Sessions at once from one IP (0: no limit; default 256)");
  serve->add_option("--max-line", s.max_line, "Longest command line, bytes (default 4096)")
      ->check(CLI::Range(std::size_t{64}, std::size_t{65536}));
  serve->add_option("--login-timeout", o->login_timeout_s, "Seconds to log in after connecting (default 60)")
      ->check(CLI::Range(0.05, 3600.0));
  serve
      ->add_option("--idle-timeout", o->idle_timeout_s,
                   "Seconds a session may wait between commands (default 300)")
      ->check(CLI::Range(0.05, 86400.0));
  serve->add_option("--data-timeout", o->data_timeout_s, "Seconds a transfer may move no byte (default 60)")
      ->check(CLI::Range(0.05, 3600.0));
  serve
      ->add_option("--accept-timeout", o->accept_timeout_s,
                   "Seconds to wait for a data connection to open (default 15)")
      ->check(CLI::Range(0.05, 600.0));
  serve
      ->add_option("--auth-delay-ms", o->auth_delay_ms,
                   "Delay before answering a failed login (default 1000)")
      ->check(CLI::Range(0L, 60000L));
  serve
      ->add_option("--max-login-failures", s.max_login_failures,
                   "Failed logins before a session is closed (default 3)")
      ->check(CLI::Range(1u, 1000u));
  serve
      ->add_option("--max-ip-failures", s.max_ip_failures,
                   "Failed logins from one IP before it is locked out for 15 minutes (default 20)")
      ->check(CLI::Range(1u, 1000000u));
  serve->add_flag("--allow-foreign-port", s.allow_foreign_port,
                  "Let PORT/EPRT name another host than the client's (FXP; off: no FTP bounce)");
  serve->add_option("--xferlog", s.xferlog, "Append each transfer to FILE in xferlog(5) format");
  serve->add_flag("--tls,--tls-self-signed", s.tls_self_signed,
                  "Offer FTPS (AUTH TLS) with a self-signed pair made once and kept in --tls-dir");
  serve->add_option("--tls-cert", s.tls_cert, "Offer FTPS with this certificate chain (PEM)");
  serve->add_option("--tls-key", s.tls_key, "The private key of --tls-cert (PEM)");
  serve->add_option("--tls-dir", s.tls_dir,
                    "Where --tls keeps its pair (default ~/.local/state/sockit/ftp-tls)");
  serve->add_flag("--require-tls", s.require_tls,
                  "Logins need AUTH TLS first (530), transfers need PROT P (521)");
  serve->add_flag("--plain-anonymous", s.plain_anonymous,
                  "With --require-tls: anonymous may still log in and transfer in clear");
  serve
      ->add_option("--tls-timeout", o->tls_timeout_s,
                   "Seconds for a TLS handshake (control or data) or close exchange (default 10)")
      ->check(CLI::Range(0.05, 600.0));
  o->serve_flags.add_to(serve);
  serve->footer(R"(Examples:
  sockit ftp serve --root ./share                       anonymous read-only, 127.0.0.1:2121
  sockit ftp serve --listen [::]:2121 --root /srv/pub --passive-ports 50000-50100
  sockit ftp serve --listen 0.0.0.0:21 --root /srv/ftp --accounts users.toml --xferlog /var/log/xferlog
  sockit ftp serve --root ./share --accounts users.toml --tls --require-tls    FTPS only
  curl ftp://127.0.0.1:2121/                            list the root
  curl --ssl-reqd -k ftp://127.0.0.1:2121/              the same over FTPS (-k: self-signed)
Accounts file (TOML; hashes from 'sockit ftp passwd'):
  [user.alice]                      real: every permission, own root
  password = "$argon2id$..."
  root = "/home/alice/ftp"
  [user.upload]                     guest: a chosen set of list read write append delete rename mkdir
  kind = "guest"
  password = "$argon2id$..."
  permissions = ["list", "read", "write"]
  [anonymous]                       anonymous/ftp with any password: read-only
  incoming = "incoming"             optional upload-only folder (no listing, no download))");

  serve->callback([&action, o] {
    action = [o]() -> int {
      auto config = o->server;
      if (config.listen.empty()) config.listen = {"127.0.0.1:2121"};
      if (!o->passive_ports.empty()) ftp::parse_port_range(o->passive_ports, config);
      auto ms = [](double seconds) { return std::chrono::milliseconds(static_cast<long>(seconds * 1000)); };
      config.login_timeout = ms(o->login_timeout_s);
      config.idle_timeout = ms(o->idle_timeout_s);
      config.data_timeout = ms(o->data_timeout_s);
      config.accept_timeout = ms(o->accept_timeout_s);
      config.tls_timeout = ms(o->tls_timeout_s);
      config.auth_delay = std::chrono::milliseconds(o->auth_delay_ms);
      config.name = "main";
      return o->serve_flags.run([&] { return ftp::make_ftp_server(std::move(config)); });
    };
  });

  auto* passwd = cmd->add_subcommand("passwd", "Print an argon2id hash of a password for the accounts file");
  passwd->footer(R"(Examples:
  sockit ftp passwd                     asks for the password (not echoed), prints the hash
  printf 'secret\n' | sockit ftp passwd     reads it from stdin)");
  passwd->callback([&action] {
    action = []() -> int {
      auto password = read_secret("Password: ");
      if (password.empty()) throw std::invalid_argument("the password is empty");
      fmt::print("{}\n", ftp::hash_password(password));
      return 0;
    };
  });
}

}  // namespace sockit::cli
