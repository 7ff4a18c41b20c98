#include "codec/exec_messages.hpp"

namespace sockit::codec::exec {

std::string run_payload(const Run& run) {
  std::string out(1, static_cast<char>(run.form));
  for (std::size_t i = 0; i < run.args.size(); ++i) {
    if (i > 0) out += '\0';
    out += run.args[i];
  }
  return out;
}

std::optional<Run> parse_run(std::string_view payload) {
  if (payload.empty()) return std::nullopt;
  auto form = static_cast<RunForm>(payload[0]);
  if (form != RunForm::argv && form != RunForm::command_line) return std::nullopt;
  Run run{form, {}};
  // "a\0\0b" is three arguments, the middle one empty: argv may hold empty
  // strings (`printf ''`), only the program name may not be empty.
  std::string_view rest = payload.substr(1);
  for (;;) {
    auto nul = rest.find('\0');
    run.args.emplace_back(rest.substr(0, nul));
    if (nul == std::string_view::npos) break;
    rest.remove_prefix(nul + 1);
  }
  if (run.args.front().empty()) return std::nullopt;
  if (run.form == RunForm::command_line && run.args.size() != 1) return std::nullopt;
  return run;
}

std::string exit_payload(const Exit& exit) {
  std::string out{static_cast<char>(exit.signaled ? 1 : 0), static_cast<char>(exit.value)};
  out += exit.reason;
  return out;
}

std::optional<Exit> parse_exit(std::string_view payload) {
  if (payload.size() < 2) return std::nullopt;
  auto how = static_cast<unsigned char>(payload[0]);
  if (how > 1) return std::nullopt;
  return Exit{how == 1, static_cast<std::uint8_t>(payload[1]), std::string(payload.substr(2))};
}

bool is_forwardable_signal(int signal) {
  // Linux numbers, fixed by the protocol (not <csignal>'s, which vary by OS).
  return signal == 1 || signal == 2 || signal == 3 || signal == 9 || signal == 15;
}

std::optional<int> parse_signal(std::string_view payload) {
  if (payload.size() != 1) return std::nullopt;
  int signal = static_cast<unsigned char>(payload[0]);
  if (!is_forwardable_signal(signal)) return std::nullopt;
  return signal;
}

std::string signal_payload(int signal) {
  return std::string(1, static_cast<char>(signal));
}

std::string stdin_ack_payload(std::uint32_t bytes) {
  return {static_cast<char>(bytes >> 24), static_cast<char>(bytes >> 16), static_cast<char>(bytes >> 8),
          static_cast<char>(bytes)};
}

std::optional<std::uint32_t> parse_stdin_ack(std::string_view payload) {
  if (payload.size() != 4) return std::nullopt;
  std::uint32_t bytes = 0;
  for (char c : payload) bytes = (bytes << 8) | static_cast<unsigned char>(c);
  if (bytes == 0) return std::nullopt;
  return bytes;
}

}  // namespace sockit::codec::exec
