// `sockit ftp [URL] [-e 'cmd; cmd']`: the FTP client (the shell is in
// services/ftp_client/ftp_shell*). `ftp serve` and `ftp passwd` are
// ftp_command.cpp's; this adds the options of `ftp` itself.
#include "cli/commands.hpp"
#include "cli/line_editor.hpp"
#include "cli/progress_bar.hpp"
#include "codec/shell_words.hpp"
#include "services/ftp_client/ftp_shell.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <termios.h>
#include <unistd.h>

#include <iostream>

namespace sockit::cli {

namespace {

// A password typed at the terminal without echo; nothing without one.
std::optional<std::string> ask_password(const std::string& prompt) {
  if (!::isatty(STDIN_FILENO)) return std::nullopt;
  // Echo goes off before the prompt shows, so nothing typed after it is
  // echoed; TCSANOW keeps what was typed ahead.
  termios saved{};
  ::tcgetattr(STDIN_FILENO, &saved);
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  fmt::print(stderr, "{}", prompt);
  std::fflush(stderr);
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  fmt::print(stderr, "\n");
  if (!got) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Commands piped in (no terminal): one per line, no prompt.
class StdinLines final : public services::Prompt {
 public:
  std::optional<std::string> read_line(const std::string&) override {
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
};

struct ClientFlags {
  std::string url;
  std::vector<std::string> scripts;  // -e, in order
  bool tls = false, insecure = false, active = false, verbose = false;
  std::string cacert;
  double connect_timeout_s = 30, timeout_s = 60;
};

}  // namespace

void add_ftp_client(CLI::App* ftp, Action& action) {
  auto o = std::make_shared<ClientFlags>();
  ftp->add_option("url", o->url, "ftp://[USER[:PASSWORD]@]HOST[:PORT][/DIR] or ftps://... (or HOST[:PORT])");
  ftp->add_option("-e,--execute", o->scripts,
                  "Run these ';'-separated commands and exit: 0 if all succeed, else at the first failure");
  ftp->add_flag("--tls", o->tls,
                "FTPS: AUTH TLS on ftp:// (fail if the server refuses); ftps:// is always TLS");
  ftp->add_option("--cacert", o->cacert, "Trust the CA certificates in FILE (PEM) instead of the system's");
  ftp->add_flag("-k,--insecure", o->insecure, "Do not check the server's certificate");
  ftp->add_flag("--active", o->active, "Active mode: the server connects to us (EPRT/PORT); default passive");
  ftp->add_flag("-v,--verbose", o->verbose, "Print the protocol lines on stderr");
  ftp->add_option("--connect-timeout", o->connect_timeout_s, "Seconds to connect (default 30)")
      ->check(CLI::PositiveNumber);
  ftp->add_option("--timeout", o->timeout_s, "Seconds to wait for a reply or for data (default 60)")
      ->check(CLI::PositiveNumber);
  ftp->callback([&action, o, ftp] {
    if (!ftp->get_subcommands().empty()) return;  // ftp serve / ftp passwd
    action = [o]() -> int {
      ftp_client::ShellOptions shell;
      shell.url = o->url;
      shell.explicit_tls = o->tls;
      shell.cacert = o->cacert;
      shell.insecure = o->insecure;
      shell.client.passive = !o->active;
      shell.client.connect_timeout =
          std::chrono::milliseconds(static_cast<long>(o->connect_timeout_s * 1000));
      shell.client.stall_timeout = std::chrono::milliseconds(static_cast<long>(o->timeout_s * 1000));
      shell.ask_secret = ask_password;
      shell.make_progress = [](bool upload) -> std::unique_ptr<transfer::Progress> {
        return std::make_unique<ProgressBar>(false, upload ? "sent" : "received");
      };
      if (!o->cacert.empty() && ::access(o->cacert.c_str(), R_OK) != 0)
        throw std::invalid_argument("ftp: cannot read --cacert " + o->cacert);
      shell.verbose = o->verbose;
      std::vector<std::string> commands;
      if (!o->scripts.empty()) {
        for (const auto& script : o->scripts)
          for (auto& command : codec::split_commands(script)) commands.push_back(command);
        return ftp_client::run_ftp_script(shell, commands);
      }
      bool terminal = ::isatty(STDIN_FILENO);
      shell.interactive = terminal;
      LineEditor editor("ftp");
      StdinLines lines;
      services::Prompt& prompt = terminal ? static_cast<services::Prompt&>(editor) : lines;
      return ftp_client::run_ftp_shell(shell, prompt);
    };
  });
}

}  // namespace sockit::cli
