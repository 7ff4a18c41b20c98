// FtpReplyReader: a client's side of FTP replies (RFC 959 4.2): "NNN text"
// on one line, or "NNN-first" ... "NNN last" over several, read from bytes
// as they arrive. Lines are capped, so a server cannot make it hold
// unbounded text.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
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

// What a client reads in some replies' text (the part after the code).
// 257 "/a ""b"" c" is the current directory -> /a "b" c (nothing without quotes).
std::optional<std::string> parse_pwd_reply(std::string_view text);
// 211's feature lines (after the first): each one's first word, upper-cased
// ("EPSV", "MLST", "REST"); the closing "End" is not one.
std::set<std::string> parse_feat_reply(std::string_view text);
// 213 "20240305123400" (optionally ".fff"): seconds since the epoch, UTC.
std::optional<std::int64_t> parse_mdtm_reply(std::string_view text);
// 213 "1234": a size in bytes.
std::optional<std::uint64_t> parse_size_reply(std::string_view text);

}  // namespace sockit::codec::ftp
