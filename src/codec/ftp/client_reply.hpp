// FtpReplyReader: a client's side of FTP replies (RFC 959 4.2): "NNN text"
// on one line, or "NNN-first" ... "NNN last" over several, read from bytes
// as they arrive. Lines are capped, so a server cannot make it hold
// unbounded text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sockit::codec::ftp {

struct ClientReply {
  int code = 0;
  std::string text;  // the lines after the code, joined by '\n'
};

class FtpReplyReader {
 public:
  static constexpr std::size_t kMaxLine = 8192;
  static constexpr std::size_t kMaxLines = 1000;

  void feed(std::string_view bytes) { pending_.append(bytes); }
  // The next whole reply, if one is buffered. On a malformed reply `error`
  // says what (and nothing more comes).
  std::optional<ClientReply> next(std::string& error);

 private:
  std::string pending_;
  ClientReply partial_;
  std::size_t lines_ = 0;
  bool in_multiline_ = false;
};

}  // namespace sockit::codec::ftp
