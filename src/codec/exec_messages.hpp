// The exec protocol's frames (docs/protocol/frames.md, "Protocol: exec"):
// their types and payloads, built and parsed without any I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sockit::codec::exec {

inline constexpr std::string_view kService = "exec";
inline constexpr std::uint8_t kVersion = 1;

enum class Type : std::uint8_t {
  auth = 0x10,
  auth_ok = 0x11,
  run = 0x12,
  stdin_data = 0x13,  // empty payload: end of input
  stdout_data = 0x14,
  stderr_data = 0x15,
  exit = 0x16,
  signal = 0x17,
  stdin_ack = 0x18,  // server to client: stdin bytes the command has taken
};

// Stdin flow control: a client keeps at most this many STDIN payload bytes
// sent but not yet acknowledged by STDIN_ACK, so the server never has to stop
// reading the connection and a SIGNAL or a hang-up is always seen at once.
inline constexpr std::uint32_t kStdinWindow = 1024 * 1024;
constexpr std::uint8_t operator+(Type type) {
  return static_cast<std::uint8_t>(type);
}

enum class RunForm : std::uint8_t {
  argv = 0,          // an argument vector
  command_line = 1,  // one line as typed at a prompt
};

struct Run {
  RunForm form = RunForm::argv;
  std::vector<std::string> args;  // command_line: exactly one
};
std::string run_payload(const Run& run);
// Nothing if malformed: unknown form, no argument, an empty program name,
// or a command_line form with more than one string.
std::optional<Run> parse_run(std::string_view payload);

struct Exit {
  bool signaled = false;   // killed by a signal (value is its number)
  std::uint8_t value = 0;  // exit code or signal number
  std::string reason;      // why the server killed it ("timeout"), or empty
};
std::string exit_payload(const Exit& exit);
std::optional<Exit> parse_exit(std::string_view payload);

std::string stdin_ack_payload(std::uint32_t bytes);
std::optional<std::uint32_t> parse_stdin_ack(std::string_view payload);  // exactly 4 bytes, > 0

// SIGNAL carries one of these Linux signal numbers; nothing for any other.
std::optional<int> parse_signal(std::string_view payload);
std::string signal_payload(int signal);
bool is_forwardable_signal(int signal);  // HUP INT QUIT KILL TERM

}  // namespace sockit::codec::exec
