// ftp:// and ftps:// URLs as `sockit ftp` takes them:
// ftp://user:password@host:port/path, "host" or "host:port" alone meaning
// ftp://. Sans-I/O (Boost.URL, in the HTTP codec library).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sockit::codec::ftp {

struct FtpUrl {
  bool implicit_tls = false;  // ftps://: TLS from the first byte
  std::string host;           // without IPv6 brackets
  std::uint16_t port = 21;    // 990 for ftps://
  std::string user;           // decoded; empty: anonymous
  std::string password;       // decoded
  bool has_user = false;
  bool has_password = false;  // "user:@host" has one (empty); "user@host" has none
  // Decoded, relative to the login directory as curl takes it ("" for the
  // login directory; "pub/" a directory; "pub/a.txt" a file or directory).
  std::string path;
};

// Nothing, with `error` set ("bad URL 'x': ..."), for another scheme, a
// missing host, or a CR, LF or NUL in a decoded part (they would end an
// FTP command line).
std::optional<FtpUrl> parse_ftp_url(std::string_view text, std::string& error);

}  // namespace sockit::codec::ftp
