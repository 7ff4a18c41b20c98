#include "codec/ftp/client_reply.hpp"

#include <cctype>

namespace sockit::codec::ftp {

namespace {

// The three digits of a line that starts with them, else 0.
int code_of(std::string_view line) {
  if (line.size() < 3) return 0;
  for (std::size_t i = 0; i < 3; ++i)
    if (!std::isdigit(static_cast<unsigned char>(line[i]))) return 0;
  int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  return code >= 100 && code < 600 ? code : 0;
}

}  // namespace

std::optional<ClientReply> FtpReplyReader::next(std::string& error) {
  for (;;) {
    auto eol = pending_.find('\n');
    if (eol == std::string::npos) {
      if (pending_.size() > kMaxLine) error = "the server sent a reply line longer than 8 KiB";
      return std::nullopt;
    }
    std::string line = pending_.substr(0, eol);
    pending_.erase(0, eol + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > kMaxLine || ++lines_ > kMaxLines) {
      error = "the server sent an oversized reply";
      return std::nullopt;
    }
    int code = code_of(line);
    if (!in_multiline_) {
      if (code == 0 || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
        error = "the server sent something that is not an FTP reply: " + line.substr(0, 80);
        return std::nullopt;
      }
      partial_ = ClientReply{code, line.size() > 4 ? line.substr(4) : std::string()};
      if (line.size() > 3 && line[3] == '-') {
        in_multiline_ = true;
        continue;
      }
    } else {
      // Inner lines may be anything; "NNN " with the same code ends it.
      bool last = code == partial_.code && (line.size() == 3 || line[3] == ' ');
      partial_.text += "\n" + (last ? (line.size() > 4 ? line.substr(4) : std::string()) : line);
      if (!last) continue;
      in_multiline_ = false;
    }
    lines_ = 0;
    return std::move(partial_);
  }
}

}  // namespace sockit::codec::ftp
