#include "services/echo/echo_config.hpp"

#include "codec/reply_template.hpp"
#include "net/endpoint.hpp"

#include <stdexcept>

namespace sockit::echo {

Mode parse_mode(const std::string& text) {
  if (text == "echo") return Mode::echo;
  if (text == "upper") return Mode::upper;
  if (text == "hello") return Mode::hello;
  throw std::invalid_argument("unknown echo mode '" + text +
                              "' (use echo, upper or hello; --reply for a template)");
}

const char* mode_name(Mode mode) {
  switch (mode) {
    case Mode::echo:
      return "echo";
    case Mode::upper:
      return "upper";
    case Mode::hello:
      return "hello";
    case Mode::reply:
      return "reply";
  }
  return "?";
}

void validate(const EchoConfig& config) {
  if (config.tcp.empty() && config.udp.empty() && config.unix_paths.empty())
    throw std::invalid_argument(config.name + ": no address to listen on (give tcp, udp or unix)");
  for (const auto& a : config.tcp) net::parse_endpoint_or_throw(a, net::Transport::tcp);
  for (const auto& a : config.udp) {
    auto e = net::parse_endpoint_or_throw(a, net::Transport::udp);
    if (e.transport != net::Transport::udp)
      throw std::invalid_argument("udp address '" + a + "' names another transport");
  }
  for (const auto& a : config.unix_paths)
    net::parse_endpoint_or_throw(a.starts_with("unix:") ? a : "unix:" + a);
  if (config.mode == Mode::reply) codec::ReplyTemplate::parse(config.reply_template);
  if (config.max_message == 0 || config.max_message > 16 * 1024 * 1024)
    throw std::invalid_argument("max_message must be between 1 and 16777216 bytes");
  if (config.backlog <= 0) throw std::invalid_argument("backlog must be positive");
  if (config.idle_timeout.count() <= 0) throw std::invalid_argument("idle_timeout must be positive");
}

}  // namespace sockit::echo
