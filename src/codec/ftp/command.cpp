#include "codec/ftp/command.hpp"

#include <charconv>

namespace sockit::codec::ftp {

namespace {
constexpr unsigned char kIac = 255;
constexpr unsigned char kWill = 251;
constexpr unsigned char kDont = 254;
}  // namespace

Command parse_command_line(std::string_view line) {
  if (line.ends_with('\n')) line.remove_suffix(1);
  if (line.ends_with('\r')) line.remove_suffix(1);
  Command command;
  auto space = line.find(' ');
  std::string_view verb = line.substr(0, space);
  command.verb.reserve(verb.size());
  for (char c : verb) command.verb += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
  if (space != std::string_view::npos) command.arg = std::string(line.substr(space + 1));
  return command;
}

namespace {
bool equals_upper(std::string_view text, std::string_view upper) {
  if (text.size() != upper.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    if (c != upper[i]) return false;
  }
  return true;
}
}  // namespace

AuthMechanism parse_auth(std::string_view arg) {
  if (equals_upper(arg, "TLS") || equals_upper(arg, "TLS-C")) return AuthMechanism::tls;
  if (equals_upper(arg, "SSL") || equals_upper(arg, "TLS-P")) return AuthMechanism::tls_protect_data;
  return AuthMechanism::unknown;
}

std::optional<std::uint32_t> parse_pbsz(std::string_view arg) {
  if (arg.empty() || arg.front() < '0' || arg.front() > '9') return std::nullopt;  // no sign, no space
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), value);
  if (ec != std::errc() || end != arg.data() + arg.size()) return std::nullopt;
  return value;
}

char parse_prot(std::string_view arg) {
  if (arg.size() != 1) return '?';
  char c = arg.front();
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return c == 'C' || c == 'S' || c == 'E' || c == 'P' ? c : '?';
}

CommandReader::Status CommandReader::feed(std::string_view bytes) {
  if (failed_) return Status::too_long;
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    switch (telnet_) {
      case Telnet::iac:
        if (c == kIac) {
          telnet_ = Telnet::data;
          break;  // IAC IAC: a literal 0xFF byte (RFC 854), kept below
        } else if (c >= kWill && c <= kDont) {
          telnet_ = Telnet::option;  // WILL/WONT/DO/DONT take one option byte
        } else {
          telnet_ = Telnet::data;  // IP, DM, AO, ...: dropped
        }
        continue;
      case Telnet::option:
        telnet_ = Telnet::data;
        continue;
      case Telnet::data:
        if (c == kIac) {
          telnet_ = Telnet::iac;
          continue;
        }
        break;
    }
    if (ch == '\0') continue;  // RFC 2640 escapes CR as CR NUL; NUL never belongs in a name
    line_ += ch;
    if (ch == '\n') {
      complete_ += line_;
      line_.clear();
    } else if (line_.size() > max_line_) {
      failed_ = true;
      line_.clear();
      return Status::too_long;
    }
  }
  return Status::ok;
}

std::optional<Command> CommandReader::next() {
  auto end = complete_.find('\n');
  if (end == std::string::npos) return std::nullopt;
  auto command = parse_command_line(std::string_view(complete_).substr(0, end + 1));
  complete_.erase(0, end + 1);
  return command;
}

}  // namespace sockit::codec::ftp
