#include "services/serve/serve_config.hpp"

#include "codec/transfer_messages.hpp"

#include "net/endpoint.hpp"
#include "services/exec/token.hpp"

#include "services/toml_config.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sockit::serve {
namespace {

constexpr std::string_view kDefault =
    R"(# sockit serve: built-in configuration (print it with --print-default-config)

[engine]
threads = 0              # event loops; 0 = one per usable core, one fewer without FTP
shutdown_grace = 5       # seconds live sessions get to finish after SIGINT/SIGTERM

# Echo on TCP and UDP (RFC 862). Try: sockit echo 127.0.0.1:7007
[echo.main]
tcp = ["127.0.0.1:7007"]
udp = ["127.0.0.1:7007"]
unix = []
mode = "echo"            # echo | upper | hello
# reply = "Received msg: {msg} from {peer}"   # any other answer, instead of mode
max_connections = 10000
max_per_ip = 1000
idle_timeout = 300       # seconds
max_message = 65536      # bytes, hello and reply modes

# Remote commands (docs/exec.md), only once a token exists: write one with
#   mkdir -p ~/.config/sockit && head -c 32 /dev/urandom | base64 > ~/.config/sockit/exec.token
# (or set SOCKIT_TOKEN). Try: sockit exec 127.0.0.1:7022 -- uname -a
[exec.main]
listen = ["127.0.0.1:7022"]
token_file = "~/.config/sockit/exec.token"
if_no_token = "skip"     # skip: not started without a token | fail: refuse to start
shell = true             # false: run the argument vector, no /bin/sh -c
allow = []               # with shell = false: the only programs that may run
timeout = 0              # seconds a command may run; 0 = no limit
max_output = 0           # bytes of output before the command is killed; 0 = no limit
max_connections = 256
max_per_ip = 32

# A drop folder: receives files from 'sockit send' (docs/transfer.md). Off
# unless a [recv.NAME] table is here; uncomment to share ./incoming:
# [recv.drop]
# listen = ["127.0.0.1:7023"]
# dir = "./incoming"
# overwrite = false
# tls_self_signed = false  # true: encrypted; senders pin the printed fingerprint
# max_connections = 16
# max_per_ip = 4
# stall_timeout = 60       # seconds without a byte moving

# An FTP server (docs/ftp.md): ./share (made if missing) read-only to
# anonymous. Try: curl ftp://127.0.0.1:2121/  or  sockit get ftp://127.0.0.1:2121/FILE
[ftp.main]
listen = ["127.0.0.1:2121"]
root = "./share"
create_root = true       # make root if missing
accounts = ""            # TOML accounts file (real, guest, anonymous); "" = anonymous read-only
passive_ports = "49152-65534"
max_connections = 1000
max_per_ip = 256
idle_timeout = 300       # seconds between commands
data_timeout = 60        # seconds a transfer may move no byte
xferlog = ""             # transfer log file (xferlog format)
# FTPS (AUTH TLS): a self-signed pair kept in ~/.local/state/sockit/ftp-tls, or a certificate
# tls_self_signed = true
# tls_cert = "/etc/ssl/ftp.pem"
# tls_key = "/etc/ssl/private/ftp.key"
# require_tls = false      # true: logins need AUTH TLS, transfers PROT P
# plain_anonymous = false  # with require_tls: anonymous may stay in clear
)";

class Reader {
 public:
  Reader(std::string_view source, const toml::table& table, std::string prefix)
      : source_(source), table_(table), prefix_(std::move(prefix)) {}

  [[noreturn]] void fail(const toml::node* node, std::string_view key, const std::string& what) const {
    std::string where(source_);
    if (node) where += ":" + std::to_string(node->source().begin.line);
    throw std::invalid_argument(where + ": " + prefix_ + std::string(key) + ": " + what);
  }

  void check_keys(std::initializer_list<std::string_view> known) const {
    for (const auto& [key, node] : table_) {
      bool ok = false;
      for (auto k : known) ok = ok || key.str() == k;
      if (!ok) fail(&node, key.str(), "unknown key");
    }
  }

  template <typename T>
  void integer(std::string_view key, T& out, std::int64_t min, std::int64_t max) const {
    const toml::node* node = table_.get(key);
    if (!node) return;
    auto value = node->value<std::int64_t>();
    if (!node->is_integer() || !value) fail(node, key, "expected an integer");
    if (*value < min || *value > max)
      fail(node, key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    out = static_cast<T>(*value);
  }

  void boolean(std::string_view key, bool& out) const {
    const toml::node* node = table_.get(key);
    if (!node) return;
    if (!node->is_boolean()) fail(node, key, "expected true or false");
    out = *node->value<bool>();
  }

  void string(std::string_view key, std::string& out) const {
    const toml::node* node = table_.get(key);
    if (!node) return;
    if (!node->is_string()) fail(node, key, "expected a string");
    out = *node->value<std::string>();
  }

  // Each address must parse; the error names the key and the entry.
  void endpoints(std::string_view key, const std::vector<std::string>& texts,
                 net::Transport transport) const {
    for (const auto& text : texts) {
      auto parsed = net::parse_endpoint(
          transport == net::Transport::unix_stream && !text.starts_with("unix:") ? "unix:" + text : text,
          transport);
      if (!parsed.endpoint) fail(table_.get(key), key, parsed.error);
      if (parsed.endpoint->transport != transport)
        fail(table_.get(key), key,
             "'" + text + "' is not a " + std::string(net::transport_name(transport)) + " address");
    }
  }

  void strings(std::string_view key, std::vector<std::string>& out) const {
    const toml::node* node = table_.get(key);
    if (!node) return;
    const auto* array = node->as_array();
    if (!array) fail(node, key, "expected an array of strings, e.g. [\"127.0.0.1:7007\"]");
    out.clear();
    for (const auto& item : *array) {
      if (!item.is_string()) fail(&item, key, "expected an array of strings");
      out.push_back(*item.value<std::string>());
    }
  }

 private:
  std::string_view source_;
  const toml::table& table_;
  std::string prefix_;
};

void read_engine(std::string_view source, const toml::table& table, ServeConfig& config) {
  Reader r(source, table, "engine.");
  r.check_keys({"threads", "shutdown_grace"});
  r.integer("threads", config.supervisor.threads, 0, 256);
  std::int64_t grace = config.supervisor.shutdown_grace.count() / 1000;
  r.integer("shutdown_grace", grace, 0, 3600);
  config.supervisor.shutdown_grace = std::chrono::seconds(grace);
}

echo::EchoConfig read_echo(std::string_view source, const std::string& name, const toml::table& table) {
  Reader r(source, table, "echo." + name + ".");
  r.check_keys({"tcp", "udp", "unix", "mode", "reply", "max_connections", "max_per_ip", "idle_timeout",
                "max_message", "pause_ms", "backlog"});
  echo::EchoConfig config;
  config.name = name;
  r.strings("tcp", config.tcp);
  r.strings("udp", config.udp);
  r.strings("unix", config.unix_paths);
  r.endpoints("tcp", config.tcp, net::Transport::tcp);
  r.endpoints("udp", config.udp, net::Transport::udp);
  r.endpoints("unix", config.unix_paths, net::Transport::unix_stream);
  std::string mode = "echo";
  r.string("mode", mode);
  try {
    config.mode = echo::parse_mode(mode);
  } catch (const std::invalid_argument& e) {
    r.fail(table.get("mode"), "mode", e.what());
  }
  if (table.contains("reply")) {
    if (table.contains("mode")) r.fail(table.get("reply"), "reply", "give either mode or reply, not both");
    r.string("reply", config.reply_template);
    config.mode = echo::Mode::reply;
  }
  r.integer("max_connections", config.max_connections, 0, 1'000'000);
  r.integer("max_per_ip", config.max_per_ip, 0, 1'000'000);
  std::int64_t idle = config.idle_timeout.count();
  r.integer("idle_timeout", idle, 1, 7 * 24 * 3600);
  config.idle_timeout = std::chrono::seconds(idle);
  r.integer("max_message", config.max_message, 1, 16 * 1024 * 1024);
  std::int64_t pause = config.pause.count();
  r.integer("pause_ms", pause, 1, 10'000);
  config.pause = std::chrono::milliseconds(pause);
  r.integer("backlog", config.backlog, 1, 65535);
  try {
    echo::validate(config);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(source) + ": echo." + name + ": " + e.what());
  }
  return config;
}

exec::ExecConfig read_exec(std::string_view source, const std::string& name, const toml::table& table) {
  Reader r(source, table, "exec." + name + ".");
  r.check_keys({"listen", "token_file", "if_no_token", "tls_cert", "tls_key", "tls_self_signed", "tls_dir",
                "shell", "allow", "dir", "timeout", "max_output", "max_connections", "max_per_ip",
                "auth_timeout", "auth_delay_ms", "max_auth_failures", "idle_timeout", "backlog"});
  exec::ExecConfig config;
  config.name = name;
  config.listen = {"127.0.0.1:7022"};
  r.strings("listen", config.listen);
  for (const auto& text : config.listen) {
    auto parsed = net::parse_endpoint(text, net::Transport::tcp);
    if (!parsed.endpoint) r.fail(table.get("listen"), "listen", parsed.error);
  }
  r.string("token_file", config.token_file);
  std::string if_no_token = "fail";
  r.string("if_no_token", if_no_token);
  if (if_no_token != "fail" && if_no_token != "skip")
    r.fail(table.get("if_no_token"), "if_no_token", "expected \"fail\" or \"skip\"");
  config.skip_without_token = if_no_token == "skip";
  r.string("tls_cert", config.tls_cert);
  r.string("tls_key", config.tls_key);
  r.boolean("tls_self_signed", config.tls_self_signed);
  r.string("tls_dir", config.tls_dir);
  r.boolean("shell", config.shell);
  r.strings("allow", config.allow);
  r.string("dir", config.dir);
  std::int64_t seconds = config.timeout.count();
  r.integer("timeout", seconds, 0, 365L * 24 * 3600);
  config.timeout = std::chrono::seconds(seconds);
  r.integer("max_output", config.max_output, 0, std::int64_t{1} << 50);
  r.integer("max_connections", config.max_connections, 0, 1'000'000);
  r.integer("max_per_ip", config.max_per_ip, 0, 1'000'000);
  seconds = config.auth_timeout.count();
  r.integer("auth_timeout", seconds, 1, 3600);
  config.auth_timeout = std::chrono::seconds(seconds);
  std::int64_t delay = config.auth_delay.count();
  r.integer("auth_delay_ms", delay, 0, 60'000);
  config.auth_delay = std::chrono::milliseconds(delay);
  r.integer("max_auth_failures", config.max_auth_failures, 0, 1'000'000);
  seconds = config.idle_timeout.count();
  r.integer("idle_timeout", seconds, 1, 7L * 24 * 3600);
  config.idle_timeout = std::chrono::seconds(seconds);
  r.integer("backlog", config.backlog, 1, 65535);
  return config;
}

transfer::DropFolderConfig read_recv(std::string_view source, const std::string& name,
                                     const toml::table& table) {
  Reader r(source, table, "recv." + name + ".");
  r.check_keys({"listen", "dir", "overwrite", "tls_self_signed", "tls_dir", "max_connections", "max_per_ip",
                "stall_timeout"});
  transfer::DropFolderConfig config;
  config.name = name;
  config.listen = {"127.0.0.1:" + std::to_string(codec::transfer::kDefaultPort)};
  r.strings("listen", config.listen);
  for (const auto& text : config.listen) {
    auto parsed = net::parse_endpoint(text, net::Transport::tcp);
    if (!parsed.endpoint || parsed.endpoint->transport == net::Transport::udp)
      r.fail(table.get("listen"), "listen", parsed.endpoint ? "transfers run over TCP" : parsed.error);
  }
  r.string("dir", config.dir);
  if (config.dir.empty()) r.fail(&table, "dir", "required: the directory received files go to");
  r.boolean("overwrite", config.overwrite);
  r.boolean("tls_self_signed", config.tls_self_signed);
  r.string("tls_dir", config.tls_dir);
  r.integer("max_connections", config.max_connections, 1, 100'000);
  r.integer("max_per_ip", config.max_per_ip, 1, 100'000);
  std::int64_t seconds = config.stall_timeout.count();
  r.integer("stall_timeout", seconds, 1, 24 * 3600);
  config.stall_timeout = std::chrono::seconds(seconds);
  return config;
}

ftp::FtpConfig read_ftp(std::string_view source, const std::string& name, const toml::table& table) {
  Reader r(source, table, "ftp." + name + ".");
  r.check_keys(
      {"listen", "root", "create_root", "accounts", "passive_ports", "max_connections", "max_per_ip",
       "max_line", "login_timeout", "idle_timeout", "data_timeout", "accept_timeout", "auth_delay_ms",
       "max_login_failures", "max_ip_failures", "allow_foreign_port", "xferlog", "backlog", "banner",
       // FTPS
       "tls_cert", "tls_key", "tls_self_signed", "tls_dir", "require_tls", "plain_anonymous", "tls_timeout"});
  ftp::FtpConfig config;
  config.name = name;
  config.listen = {"127.0.0.1:2121"};
  r.strings("listen", config.listen);
  r.endpoints("listen", config.listen, net::Transport::tcp);
  r.string("root", config.root);
  r.boolean("create_root", config.create_root);
  r.string("accounts", config.accounts_file);
  std::string ports;
  r.string("passive_ports", ports);
  if (!ports.empty()) {
    try {
      ftp::parse_port_range(ports, config);
    } catch (const std::invalid_argument& e) {
      r.fail(table.get("passive_ports"), "passive_ports", e.what());
    }
  }
  r.integer("max_connections", config.max_connections, 0, 1'000'000);
  r.integer("max_per_ip", config.max_per_ip, 0, 1'000'000);
  r.integer("max_line", config.max_line, 64, 65536);
  auto seconds = [&](std::string_view key, std::chrono::milliseconds& out, std::int64_t max) {
    std::int64_t value = out.count() / 1000;
    r.integer(key, value, 1, max);
    out = std::chrono::seconds(value);
  };
  seconds("login_timeout", config.login_timeout, 3600);
  seconds("idle_timeout", config.idle_timeout, 86400);
  seconds("data_timeout", config.data_timeout, 3600);
  seconds("accept_timeout", config.accept_timeout, 600);
  std::int64_t delay = config.auth_delay.count();
  r.integer("auth_delay_ms", delay, 0, 60'000);
  config.auth_delay = std::chrono::milliseconds(delay);
  r.integer("max_login_failures", config.max_login_failures, 1, 1000);
  r.integer("max_ip_failures", config.max_ip_failures, 1, 1'000'000);
  r.boolean("allow_foreign_port", config.allow_foreign_port);
  r.string("xferlog", config.xferlog);
  r.integer("backlog", config.backlog, 1, 65535);
  r.string("banner", config.banner);
  r.string("tls_cert", config.tls_cert);
  r.string("tls_key", config.tls_key);
  r.boolean("tls_self_signed", config.tls_self_signed);
  r.string("tls_dir", config.tls_dir);
  r.boolean("require_tls", config.require_tls);
  r.boolean("plain_anonymous", config.plain_anonymous);
  seconds("tls_timeout", config.tls_timeout, 600);
  if (config.root.empty() && config.accounts_file.empty())
    r.fail(&table, "root", "required: the folder to share (or give accounts)");
  try {
    ftp::validate(config);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(source) + ": ftp." + name + ": " + e.what());
  }
  return config;
}

std::string expand_home(const std::string& path) {
  if (!path.starts_with("~/")) return path;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + path.substr(1);
}

}  // namespace

void resolve_exec_tokens(ServeConfig& config) {
  std::vector<exec::ExecConfig> kept;
  for (auto& service : config.exec) {
    std::string file = expand_home(service.token_file);
    bool have_file = !file.empty() && ::access(file.c_str(), F_OK) == 0;
    auto token = exec::load_token(have_file ? file : "");  // the file, else SOCKIT_TOKEN
    if (!token) {
      std::string where = file.empty() ? "no token_file" : file + " does not exist";
      if (service.skip_without_token) {
        spdlog::info("service=exec.{} event=skipped reason=\"no token: {} and SOCKIT_TOKEN is not set\"",
                     service.name, where);
        continue;
      }
      throw std::invalid_argument("exec." + service.name + ": no token: " + where +
                                  " and SOCKIT_TOKEN is not set");
    }
    service.token = *token;
    try {
      exec::validate(service);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("exec." + service.name + ": " + e.what());
    }
    kept.push_back(std::move(service));
  }
  config.exec = std::move(kept);
  ::unsetenv(exec::kTokenEnvironment);  // commands never see it
}

std::string_view default_serve_config() {
  return kDefault;
}

namespace {

ServeConfig read_serve_config(std::string_view toml_text, std::string_view source_name) {
  auto root = services::parse_toml(toml_text, source_name);
  ServeConfig config;
  Reader top(source_name, root, "");
  top.check_keys({"engine", "echo", "exec", "recv", "ftp"});
  if (const auto* node = root.get("engine")) {
    if (!node->is_table()) top.fail(node, "engine", "expected a table [engine]");
    read_engine(source_name, *node->as_table(), config);
  }
  if (const auto* node = root.get("echo")) {
    if (!node->is_table()) top.fail(node, "echo", "expected tables [echo.NAME]");
    for (const auto& [name, instance] : *node->as_table()) {
      if (!instance.is_table())
        top.fail(&instance, "echo." + std::string(name.str()), "expected a table [echo.NAME]");
      config.echo.push_back(read_echo(source_name, std::string(name.str()), *instance.as_table()));
    }
  }
  if (const auto* node = root.get("exec")) {
    if (!node->is_table()) top.fail(node, "exec", "expected tables [exec.NAME]");
    for (const auto& [name, instance] : *node->as_table()) {
      if (!instance.is_table())
        top.fail(&instance, "exec." + std::string(name.str()), "expected a table [exec.NAME]");
      config.exec.push_back(read_exec(source_name, std::string(name.str()), *instance.as_table()));
    }
  }
  if (const auto* node = root.get("recv")) {
    if (!node->is_table()) top.fail(node, "recv", "expected tables [recv.NAME]");
    for (const auto& [name, instance] : *node->as_table()) {
      if (!instance.is_table())
        top.fail(&instance, "recv." + std::string(name.str()), "expected a table [recv.NAME]");
      config.recv.push_back(read_recv(source_name, std::string(name.str()), *instance.as_table()));
    }
  }
  if (const auto* node = root.get("ftp")) {
    if (!node->is_table()) top.fail(node, "ftp", "expected tables [ftp.NAME]");
    for (const auto& [name, instance] : *node->as_table()) {
      if (!instance.is_table())
        top.fail(&instance, "ftp." + std::string(name.str()), "expected a table [ftp.NAME]");
      config.ftp.push_back(read_ftp(source_name, std::string(name.str()), *instance.as_table()));
    }
  }
  if (config.echo.empty() && config.exec.empty() && config.recv.empty() && config.ftp.empty())
    throw std::invalid_argument(
        std::string(source_name) +
        ": no service configured (add an [echo.NAME], [exec.NAME], [recv.NAME] or [ftp.NAME] table)");
  return config;
}

}  // namespace

ServeConfig parse_serve_config(std::string_view toml_text, std::string_view source_name) {
  return services::with_one_line_errors([&] { return read_serve_config(toml_text, source_name); });
}

ServeConfig load_serve_config(const std::string& path) {
  return parse_serve_config(services::read_config_file(path, "config file"), path);
}

}  // namespace sockit::serve
