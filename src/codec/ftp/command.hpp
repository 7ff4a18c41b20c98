// FTP control-connection input: bytes in, commands out (RFC 959 section 4,
// RFC 2640 for UTF-8 names). Telnet IAC sequences are removed (clients send
// IAC IP / IAC DM before ABOR), a line ends at LF (CR LF or a bare LF), and a
// line longer than the cap is an error, so a peer can never make us buffer
// without bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sockit::codec::ftp {

inline constexpr std::size_t kDefaultMaxLine = 1024;

struct Command {
  std::string verb;  // upper-cased ASCII, e.g. "RETR"; may be empty for a blank line
  std::string arg;   // everything after the first space, as sent (may hold spaces)
  friend bool operator==(const Command&, const Command&) = default;
};

// "retr a b.txt" -> {"RETR", "a b.txt"}. A verb is at most 4 letters plus
// nothing else; anything odd stays in the verb so the session can answer 500.
Command parse_command_line(std::string_view line);

// The security commands' arguments (RFC 2228, RFC 4217), any case.
// AUTH TLS or TLS-C: TLS on the control connection, data in clear until
// PROT P. AUTH SSL or TLS-P (the older drafts): data protected too, as
// vsftpd does.
enum class AuthMechanism { tls, tls_protect_data, unknown };
AuthMechanism parse_auth(std::string_view arg);
// PBSZ: a decimal that fits in 32 bits; nothing otherwise (501).
std::optional<std::uint32_t> parse_pbsz(std::string_view arg);
// PROT: 'C', 'S', 'E' or 'P' (upper case); '?' for anything else.
char parse_prot(std::string_view arg);

class CommandReader {
 public:
  enum class Status { ok, too_long };
  explicit CommandReader(std::size_t max_line = kDefaultMaxLine) : max_line_(max_line) {}

  // Adds received bytes. Returns too_long once a line has exceeded the cap
  // (the reader is then unusable: close the connection after telling why).
  Status feed(std::string_view bytes);
  // The next complete command, if one has arrived.
  std::optional<Command> next();
  bool failed() const { return failed_; }
  // Bytes of a line not yet complete.
  std::size_t pending() const { return line_.size(); }
  // Bytes received and not yet returned by next(): complete lines, a partial
  // line, a partial Telnet sequence. Non-zero after AUTH TLS means the
  // client sent more before the reply: plaintext that must never be taken
  // as said under TLS (the STARTTLS command-injection attack).
  std::size_t buffered() const { return complete_.size() + line_.size() + (telnet_ == Telnet::data ? 0 : 1); }

 private:
  enum class Telnet { data, iac, option };
  std::size_t max_line_;
  Telnet telnet_ = Telnet::data;
  std::string line_;      // current line, Telnet stripped
  std::string complete_;  // complete lines, each ending in '\n'
  bool failed_ = false;
};

}  // namespace sockit::codec::ftp
