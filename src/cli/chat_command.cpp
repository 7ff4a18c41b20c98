// `sockit chat`: a LAN messenger that speaks IP Messenger and the tutorials'
// plain-text UDP chat. Argument parsing and wiring only.
#include "cli/commands.hpp"
#include "cli/line_editor.hpp"
#include "net/log.hpp"
#include "services/chat/chat_config.hpp"
#include "services/chat/chat_console.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace sockit::cli {

namespace {

std::string default_name() {
  for (const char* variable : {"SOCKIT_CHAT_NAME", "USER", "LOGNAME"})
    if (const char* value = std::getenv(variable); value && chat::is_valid_name(value)) return value;
  return "sockit";
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
  std::string host(name);
  std::erase(host, ':');  // a ':' would end the Host field early
  return host.empty() ? "localhost" : host.substr(0, 64);
}

std::string default_contacts_file() {
  const char* config = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  std::string dir = config && *config ? std::string(config)
                    : home && *home   ? std::string(home) + "/.config"
                                      : "";
  if (dir.empty()) return {};
  auto path = dir + "/sockit/contacts.toml";
  std::error_code ec;
  return std::filesystem::exists(path, ec) ? path : std::string();
}

}  // namespace

void add_chat_command(CLI::App& app, Action& action) {
  struct Options {
    chat::ChatConfig config;
    std::string name;
    std::string contacts_file;
    std::string broadcast;
    std::string to;
    double give_up_s = 10;
    double hold_s = 5;
    bool script = false;
    std::string log_level = "warn";
  };
  auto o = std::make_shared<Options>();
  auto* cmd =
      app.add_subcommand("chat", "LAN chat: IP Messenger compatible, reliable, and the tutorials' UDP chat");
  cmd->add_option("--listen", o->config.listen,
                  "UDP address to listen on (default 0.0.0.0:2425; port 0: any)");
  cmd->add_option("--name", o->name, "Your name as others see it (default $USER): no spaces or ':'");
  cmd->add_option("--contacts", o->contacts_file,
                  "Contacts file (TOML; default ~/.config/sockit/contacts.toml if it exists)");
  cmd->add_option("--broadcast", o->broadcast,
                  "Announce yourself here too, e.g. 255.255.255.255:2425 (contacts are always told)");
  cmd->add_option("--to", o->to, "First recipient: a contact, a peer's name, ip:port, or plain:ip:port");
  cmd->add_option("--timeout", o->give_up_s, "Seconds to retry a message before it failed (default 10)")
      ->check(CLI::Range(0.05, 3600.0));
  cmd->add_option("--hold", o->hold_s, "Seconds a message waits for an earlier lost one (default 5)")
      ->check(CLI::Range(0.0, 600.0));
  cmd->add_flag("--script", o->script, "Scriptable mode even on a terminal (the default on a pipe)");
  cmd->add_option("--log-level", o->log_level, "trace, debug, info, warn (default), error or off");
  cmd->footer(R"(Examples:
  sockit chat --name alice --contacts friends.toml --to bob      a prompt; what you type goes to bob
  sockit chat --listen 0.0.0.0:2425 --broadcast 255.255.255.255:2425   meet IP Messenger / FeiQ users
  sockit chat --listen 127.0.0.1:9000 --to plain:127.0.0.1:8080  talk to the tutorials' Python chat
  printf 'hello\n' | sockit chat --listen 127.0.0.1:0 --to 127.0.0.1:2425   prints: delivered 1 ...
At the prompt: /to NAME|ip:port, /msg NAME TEXT, /who, /contacts, /quit (//text sends /text).
friends.toml:  [contacts]
               bob = "192.168.1.20:2425"
               tutorial = { address = "127.0.0.1:8080", plain = true }
Scriptable mode (stdin not a terminal) prints one event per line: listening, received,
delivered, sent, failed, joined, left (see docs/chat.md); at the end of input it waits
for every message to be delivered or failed.
Exit codes: 0 every message delivered, 1 some message failed or cannot listen, 2 bad usage.)");

  cmd->callback([&action, o] {
    action = [o]() -> int {
      net::init_logging(o->log_level);
      auto config = o->config;
      auto name = o->name.empty() ? default_name() : o->name;
      if (!chat::is_valid_name(name))
        throw std::invalid_argument("--name '" + name + "': use 1-64 bytes without spaces or ':'");
      config.identity.user = name;
      config.identity.nickname = name;
      config.identity.host = host_name();
      auto contacts = o->contacts_file.empty() ? default_contacts_file() : o->contacts_file;
      if (!contacts.empty()) config.contacts = chat::load_contacts(contacts);
      if (!o->broadcast.empty()) config.broadcast = o->broadcast;
      config.give_up = std::chrono::milliseconds(static_cast<long>(o->give_up_s * 1000));
      config.hold = std::chrono::milliseconds(static_cast<long>(o->hold_s * 1000));
      chat::ConsoleOptions console;
      console.to = o->to;
      if (o->script) console.script = true;
      LineEditor editor("chat");
      return chat::run_chat(std::move(config), console, editor);
    };
  });
}

}  // namespace sockit::cli
