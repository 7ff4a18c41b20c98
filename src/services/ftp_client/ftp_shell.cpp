// The shell's loop, its command table and the commands that are one
// request each; the connection (open, user, reconnecting) is in
// ftp_shell_session.cpp, the transfers (get, put, mget, mput) in
// ftp_shell_transfer.cpp.
#include "services/ftp_client/ftp_shell_impl.hpp"

#include "codec/ftp/client_reply.hpp"
#include "codec/shell_words.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>

namespace sockit::ftp_client {
namespace asio = boost::asio;
using asio::awaitable;

namespace {

struct CommandInfo {
  std::string_view name;
  std::string_view usage;
  std::string_view help;
};

constexpr std::array<CommandInfo, 33> kCommands = {{
    {"open", "open [-n] URL|HOST[:PORT]",
     "connect and log in (anonymous unless the URL names a user; -n: not)"},
    {"user", "user NAME [PASSWORD]", "log in as NAME (the password is asked for when missing)"},
    {"close", "close", "log out and disconnect"},
    {"ls", "ls [PATH]", "list a directory (LIST, the long form)"},
    {"dir", "dir [PATH]", "the same as ls"},
    {"nlist", "nlist [PATH]", "names only (NLST)"},
    {"cd", "cd PATH", "change the remote directory"},
    {"cdup", "cdup", "go to the parent remote directory"},
    {"pwd", "pwd", "print the remote directory"},
    {"lcd", "lcd [PATH]", "change the local directory (home without PATH)"},
    {"lpwd", "lpwd", "print the local directory"},
    {"get", "get [-c] REMOTE [LOCAL]", "download (LOCAL - is stdout; -c resumes a partial LOCAL)"},
    {"reget", "reget REMOTE [LOCAL]", "the same as get -c"},
    {"put", "put [-c] LOCAL [REMOTE]", "upload (-c resumes: only what the server is missing)"},
    {"reput", "reput LOCAL [REMOTE]", "the same as put -c"},
    {"append", "append LOCAL [REMOTE]", "add LOCAL to the end of REMOTE (APPE)"},
    {"mget", "mget PATTERN...", "download every remote file a glob matches (*.txt, pub/a?.bin)"},
    {"mput", "mput PATTERN...", "upload every local file a glob matches"},
    {"mkdir", "mkdir PATH", "make a remote directory"},
    {"rmdir", "rmdir PATH", "remove an empty remote directory"},
    {"delete", "delete PATH", "delete a remote file (also: rm)"},
    {"rename", "rename FROM TO", "rename a remote file or directory"},
    {"size", "size PATH", "a remote file's size in bytes"},
    {"modtime", "modtime PATH", "a remote file's modification time (UTC)"},
    {"passive", "passive [on|off]", "passive data connections (toggles without an argument)"},
    {"binary", "binary", "transfer bytes as they are (TYPE I, the default)"},
    {"ascii", "ascii", "transfer text with line ends converted (TYPE A)"},
    {"status", "status", "the connection, mode and type"},
    {"features", "features", "what the server says it supports (FEAT)"},
    {"quote", "quote LINE", "send LINE to the server as it is and print the reply"},
    {"verbose", "verbose [on|off]", "print the protocol lines on stderr"},
    {"help", "help [COMMAND]", "these lines, or one command's"},
    {"bye", "bye", "log out and leave (also: quit, exit)"},
}};

const CommandInfo* find_command(std::string_view name) {
  for (const auto& info : kCommands)
    if (info.name == name) return &info;
  return nullptr;
}

std::string canonical(std::string name) {
  if (name == "quit" || name == "exit") return "bye";
  if (name == "rm" || name == "del") return "delete";
  if (name == "mkd") return "mkdir";
  if (name == "dir") return "ls";
  return name;
}

}  // namespace

Shell::Shell(const ShellOptions& options)
    : options_(options), passive_(options.client.passive), verbose_(options.verbose) {}

Shell::~Shell() = default;

void Shell::say(const std::string& line) const {
  if (options_.interactive) fmt::print("{}\n", line);
}

void Shell::usage(std::string_view name) const {
  const CommandInfo* info = find_command(name);
  throw ShellFailure(fmt::format("usage: {}", info ? info->usage : name), 2);
}

FtpClient& Shell::connected() {
  if (!client_ || !client_->connected()) throw ShellFailure("not connected (use 'open HOST')", 1);
  return *client_;
}

void Shell::close_now() {
  client_.reset();
  session_.reset();
}

awaitable<void> Shell::run_line(const std::string& line) {
  std::string error;
  auto words = codec::split_words(line, error);
  if (!words) throw ShellFailure(error, 2);
  if (words->empty()) co_return;
  std::string name = canonical((*words)[0]);
  std::vector<std::string> args(words->begin() + 1, words->end());
  if (!find_command(name))
    throw ShellFailure(fmt::format("unknown command '{}' (try 'help')", (*words)[0]), 2);
  if (name == "quote") {
    // The line as typed, after the command word.
    auto at = line.find((*words)[0]);
    std::string rest = line.substr(at + (*words)[0].size());
    rest.erase(0, rest.find_first_not_of(" \t"));
    args = {rest};
  }
  co_await dispatch(name, args);
}

awaitable<void> Shell::dispatch(const std::string& name, const std::vector<std::string>& args) {
  auto need = [&](std::size_t least, std::size_t most) {
    if (args.size() < least || args.size() > most) usage(name);
  };
  static constexpr std::array<std::string_view, 11> kLocal = {
      "open", "close", "lcd", "lpwd", "passive", "binary", "ascii", "verbose", "status", "help", "bye"};
  if (std::find(kLocal.begin(), kLocal.end(), name) == kLocal.end()) co_await reconnect_if_dropped();
  if (name == "open") {
    // -n: connect only (then 'user'), as ftp -n.
    bool login = !(args.size() == 2 && args[0] == "-n");
    if (args.size() != 1 && login) usage(name);
    co_await open(args.back(), login);
  } else if (name == "user") {
    need(1, 2);
    connected();
    std::string password;
    if (args.size() == 2) {
      password = args[1];
    } else {
      auto asked = options_.ask_secret ? options_.ask_secret("Password: ") : std::nullopt;
      if (!asked) throw ShellFailure("no password for " + args[0] + " (give it: user NAME PASSWORD)", 2);
      password = *asked;
    }
    co_await log_in(args[0], password);
  } else if (name == "close") {
    need(0, 0);
    if (client_) co_await client_->quit();
    close_now();
  } else if (name == "ls" || name == "nlist") {
    need(0, 1);
    // (No ?: inside a co_await expression: GCC 12 mishandles its temporaries.)
    std::string verb = name == "ls" ? "LIST" : "NLST";
    std::string path;
    if (!args.empty()) path = args[0];
    auto text = co_await connected().list(verb, path);
    std::string out;
    out.reserve(text.size());
    for (char c : text)
      if (c != '\r') out += c;
    fmt::print("{}", out);
    std::fflush(stdout);
  } else if (name == "cd") {
    need(1, 1);
    co_await connected().cwd(args[0]);
    co_await remember_directory();
  } else if (name == "cdup") {
    need(0, 0);
    co_await connected().cdup();
    co_await remember_directory();
  } else if (name == "pwd") {
    need(0, 0);
    fmt::print("{}\n", co_await connected().pwd());
  } else if (name == "lcd") {
    need(0, 1);
    std::string dir = args.empty() ? (std::getenv("HOME") ? std::getenv("HOME") : "/") : args[0];
    if (::chdir(dir.c_str()) != 0)
      throw ShellFailure(fmt::format("lcd {}: {}", dir, std::strerror(errno)), 1);
    say("Local directory now " + std::filesystem::current_path().string());
  } else if (name == "lpwd") {
    need(0, 0);
    fmt::print("{}\n", std::filesystem::current_path().string());
  } else if (name == "get" || name == "reget") {
    co_await get(args, name == "reget");
  } else if (name == "put" || name == "reput" || name == "append") {
    co_await put(args, name == "reput", name == "append");
  } else if (name == "mget") {
    if (args.empty()) usage(name);
    co_await mget(args);
  } else if (name == "mput") {
    if (args.empty()) usage(name);
    co_await mput(args);
  } else if (name == "mkdir") {
    need(1, 1);
    co_await connected().mkdir(args[0]);
  } else if (name == "rmdir") {
    need(1, 1);
    co_await connected().rmdir(args[0]);
  } else if (name == "delete") {
    need(1, 1);
    co_await connected().remove(args[0]);
  } else if (name == "rename") {
    need(2, 2);
    co_await connected().rename(args[0], args[1]);
  } else if (name == "size") {
    need(1, 1);
    auto reply = co_await connected().require("SIZE " + args[0], 213, 0, "size " + args[0]);
    fmt::print("{}\n", reply.text);
  } else if (name == "modtime") {
    need(1, 1);
    auto reply = co_await connected().require("MDTM " + args[0], 213, 0, "modtime " + args[0]);
    auto seconds = codec::ftp::parse_mdtm_reply(reply.text);
    if (!seconds) throw ShellFailure("modtime " + args[0] + ": not a time: " + reply.text, 1);
    std::time_t t = *seconds;
    std::tm utc{};
    ::gmtime_r(&t, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &utc);
    fmt::print("{}\n", text);
  } else if (name == "passive") {
    need(0, 1);
    if (args.empty())
      passive_ = !passive_;
    else if (args[0] == "on")
      passive_ = true;
    else if (args[0] == "off")
      passive_ = false;
    else
      usage(name);
    if (client_) client_->set_passive(passive_);
    say(passive_ ? "Passive mode on." : "Passive mode off (active: the server connects to us).");
  } else if (name == "binary" || name == "ascii") {
    need(0, 0);
    binary_ = name == "binary";
    if (client_ && client_->connected()) co_await client_->set_type(binary_);
    say(binary_ ? "Binary mode (TYPE I)." : "ASCII mode (TYPE A).");
  } else if (name == "verbose") {
    need(0, 1);
    verbose_ = args.empty() ? !verbose_ : args[0] == "on";
    say(verbose_ ? "Verbose on." : "Verbose off.");
  } else if (name == "status") {
    need(0, 0);
    status();
  } else if (name == "features") {
    need(0, 0);
    for (const auto& feature : co_await connected().features()) fmt::print("{}\n", feature);
  } else if (name == "quote") {
    if (args.empty() || args[0].empty()) usage(name);
    auto reply = co_await connected().command(args[0]);
    fmt::print("{} {}\n", reply.code, reply.text);
    if (reply.code >= 400) throw ShellFailure(fmt::format("{}: {} {}", args[0], reply.code, reply.text), 1);
  } else if (name == "help") {
    need(0, 1);
    if (!args.empty()) {
      const CommandInfo* info = find_command(canonical(args[0]));
      if (!info) throw ShellFailure(fmt::format("no command '{}' (try 'help')", args[0]), 2);
      fmt::print("{}\n    {}\n", info->usage, info->help);
    } else {
      for (const auto& info : kCommands) fmt::print("  {:<26} {}\n", info.usage, info.help);
    }
  } else if (name == "bye") {
    need(0, 0);
    if (client_) co_await client_->quit();
    close_now();
    done_ = true;
  }
}

void Shell::status() const {
  if (client_ && client_->connected()) {
    fmt::print("Connected to {}{} as {}.\n", client_->origin(),
               client_->secure() ? " over TLS (control and data protected)" : "",
               user_.empty() ? "no one yet (use 'user')" : user_);
  } else {
    fmt::print("Not connected.\n");
  }
  fmt::print("Mode: {}; type: {}; verbose: {}.\n", passive_ ? "passive" : "active",
             binary_ ? "binary" : "ascii", verbose_ ? "on" : "off");
  fmt::print("Local directory: {}\n", std::filesystem::current_path().string());
}

namespace {

// 'it''s' for the command line: the URL as one word whatever it holds.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

template <typename Body>
int run_on_loop(Body body) {
  asio::io_context io(1);
  int status = 0;
  asio::co_spawn(io, body(), [&](std::exception_ptr error, int code) {
    status = code;
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      fmt::print(stderr, "sockit: {}\n", e.what());
      status = 1;
    }
  });
  io.run();
  return status;
}

// One command; its failure as (status, message), or nothing.
awaitable<std::optional<std::pair<int, std::string>>> attempt(Shell& shell, const std::string& line) {
  try {
    co_await shell.run_line(line);
  } catch (const ShellFailure& e) {
    co_return std::make_pair(e.status, std::string(e.what()));
  } catch (const std::invalid_argument& e) {
    co_return std::make_pair(2, std::string(e.what()));
  } catch (const std::exception& e) {
    co_return std::make_pair(1, std::string(e.what()));
  }
  co_return std::nullopt;
}

}  // namespace

int run_ftp_script(const ShellOptions& options, const std::vector<std::string>& commands) {
  return run_on_loop([&]() -> awaitable<int> {
    Shell shell(options);
    std::vector<std::string> lines;
    if (!options.url.empty()) lines.push_back("open " + quoted(options.url));
    lines.insert(lines.end(), commands.begin(), commands.end());
    int status = 0;
    for (const auto& line : lines) {
      auto failure = co_await attempt(shell, line);
      if (failure) {
        fmt::print(stderr, "sockit: {}\n", failure->second);
        status = failure->first;
        break;
      }
      if (shell.done()) break;
    }
    co_await shell.leave();
    co_return status;
  });
}

int run_ftp_shell(const ShellOptions& options, services::Prompt& prompt) {
  return run_on_loop([&]() -> awaitable<int> {
    Shell shell(options);
    int status = 0;
    if (!options.url.empty()) {
      auto failure = co_await attempt(shell, "open " + quoted(options.url));
      if (failure) {
        fmt::print(stderr, "sockit: {}\n", failure->second);
        status = failure->first;
      }
    }
    while (!shell.done()) {
      auto line = prompt.read_line("ftp> ");
      if (!line) break;
      auto failure = co_await attempt(shell, *line);
      status = failure ? failure->first : 0;
      if (failure) fmt::print(stderr, "sockit: {}\n", failure->second);
    }
    co_await shell.leave();
    co_return shell.done() ? 0 : status;
  });
}

}  // namespace sockit::ftp_client
