// The FTP control-connection parsers on arbitrary bytes: the command reader
// (Telnet stripping, line cap, what it still holds), PORT/EPRT, the FTPS
// arguments (AUTH PBSZ PROT) and reply formatting. None may crash; no line
// may outgrow the cap; the reader's buffered() count is exact; what parses
// re-formats to something that parses to the same value; a reply is always
// whole CRLF lines.
#include <string>
#include <string_view>

#include "codec/ftp/address.hpp"
#include "codec/ftp/command.hpp"
#include "codec/ftp/reply.hpp"

namespace ftp = sockit::codec::ftp;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_reply(const std::string& reply) {
  check(reply.size() >= 6 && reply.ends_with("\r\n"));
  std::size_t start = 0;
  while (start < reply.size()) {
    auto end = reply.find("\r\n", start);
    check(end != std::string::npos);
    auto line = std::string_view(reply).substr(start, end - start);
    check(line.find('\r') == std::string_view::npos && line.find('\n') == std::string_view::npos);
    start = end + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {
      ftp::CommandReader reader(64);
      // Fed in two pieces: a line may arrive split anywhere.
      auto half = input.size() / 2;
      bool failed = reader.feed(input.substr(0, half)) == ftp::CommandReader::Status::too_long;
      if (!failed) failed = reader.feed(input.substr(half)) == ftp::CommandReader::Status::too_long;
      check(failed == reader.failed());
      check(reader.pending() <= 64);
      // buffered() counts exactly the bytes of the lines next() will still
      // give (a line is at least its LF) plus the partial line and Telnet
      // sequence: zero only once everything received was handed out.
      std::size_t before = reader.buffered();
      while (auto command = reader.next()) {
        check(command->verb.size() + command->arg.size() <= 64);
        check(command->arg.find('\n') == std::string::npos);
        for (char c : command->verb) check(!(c >= 'a' && c <= 'z'));
        check(reader.buffered() < before);
        before = reader.buffered();
      }
      check(reader.buffered() >= reader.pending() && reader.buffered() <= reader.pending() + 1);
      break;
    }
    case 1:
      if (auto a = ftp::parse_port(input)) {
        auto again = ftp::parse_port(ftp::format_pasv(a->host, a->port));
        check(again && *again == *a);
      }
      break;
    case 2:
      if (auto a = ftp::parse_eprt(input)) {
        auto again = ftp::parse_eprt(ftp::format_eprt(*a));
        check(again && *again == *a);
      }
      break;
    case 3:
      check_reply(ftp::format_reply(550, input));
      break;
    case 4: {
      // FTPS arguments: a PBSZ value re-formats to the same text (no sign,
      // space or leading junk gets through); PROT and AUTH never accept
      // more than their words.
      if (auto size = ftp::parse_pbsz(input)) {
        auto text = std::to_string(*size);
        check(ftp::parse_pbsz(text) == size);
        check(input.size() >= text.size() && input.ends_with(text));
        check(input.find_first_not_of('0') == std::string_view::npos ||
              input.substr(input.find_first_not_of('0')) == text);
      }
      char prot = ftp::parse_prot(input);
      check(prot == '?' || (input.size() == 1 && (input[0] | 0x20) == (prot | 0x20)));
      if (ftp::parse_auth(input) != ftp::AuthMechanism::unknown)
        check(input.size() == 3 || input.size() == 5);
      break;
    }
  }
  return 0;
}
