// Settings of one echo service instance: what `sockit echo serve` flags and
// a `[echo.NAME]` section of the serve config both fill in.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace sockit::echo {

enum class Mode {
  echo,   // RFC 862: bytes back unchanged
  upper,  // ASCII letters upper-cased, every other byte unchanged
  hello,  // "Welcome!" on connect, "Hello, NAME!" per message, "exit" closes
  reply,  // a template per message: {msg} and {peer}
};

struct EchoConfig {
  std::string name = "echo";  // instance name for logs and counters
  std::vector<std::string> tcp;
  std::vector<std::string> udp;
  std::vector<std::string> unix_paths;
  Mode mode = Mode::echo;
  std::string reply_template;  // for Mode::reply

  // Limits (0 = unlimited where it makes sense). Documented in docs/echo.md.
  std::size_t max_connections = 10000;
  std::size_t max_per_ip = 1000;
  std::chrono::seconds idle_timeout{300};
  std::size_t max_message = 64 * 1024;  // hello and reply modes
  std::chrono::milliseconds pause{20};  // a partial line becomes a message after this quiet
  int backlog = 1024;
};

// "echo" | "upper" | "hello"; throws std::invalid_argument otherwise.
Mode parse_mode(const std::string& text);
const char* mode_name(Mode mode);

// Checks everything that can be checked without binding (addresses parse,
// the template is valid, limits are sane). Throws std::invalid_argument.
void validate(const EchoConfig& config);

}  // namespace sockit::echo
