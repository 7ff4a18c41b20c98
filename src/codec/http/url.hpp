// URLs for `sockit get`: what a user typed (curl's leniency: no scheme means
// http://), a Location header resolved against the URL it came from, and the
// file name a download is saved under (-O, -J). Sans-I/O; Boost.URL stays
// in url.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sockit::codec::http {

struct Url {
  std::string scheme;  // "http", "https", "ftp", "ftps" (lower case)
  std::string host;    // a name or an address, without IPv6 brackets
  std::uint16_t port = 0;
  std::string target;  // path and query as sent in the request line ("/" at least)
  std::string user;    // decoded userinfo, if any
  std::string password;
  bool has_user = false;

  // host, bracketed if IPv6, with ":port" unless it is the scheme's default:
  // the Host header.
  std::string authority() const;
  // The whole URL without userinfo (for messages and Referer-free redirects).
  std::string text() const;
  // Same scheme, host and port: a kept-alive connection can be reused and
  // credentials may follow a redirect.
  bool same_origin(const Url& other) const;
};

std::uint16_t default_port(std::string_view scheme);  // 0 for an unknown scheme

// Nothing, with `error` set ("bad URL 'x': ..."), when it cannot be used.
// An unknown scheme parses (the caller says it is unsupported).
std::optional<Url> parse_url(std::string_view text, std::string& error);

// A Location value (absolute, or relative to `base`).
std::optional<Url> resolve_location(const Url& base, std::string_view location, std::string& error);

// The last path segment, percent-decoded, for -O: "" when the URL names a
// directory ("/", "/docs/"). Never contains '/' or NUL, never "." or "..".
std::string file_name_from_url(const Url& url);

// The filename of a Content-Disposition header (filename*=UTF-8''... wins
// over filename=), reduced to its last path component; "" if none or unsafe.
std::string file_name_from_disposition(std::string_view header);

}  // namespace sockit::codec::http
