// The bytes of an HTTP/1.1 request, built from parts a user may have typed
// (-H, -u, -d), so every part is checked: a CR or LF in a header would let
// one header smuggle in others.
#pragma once

#include "codec/http/url.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sockit::codec::http {

struct Request {
  std::string method = "GET";
  std::string target;  // "/path?q" or, through a proxy, the whole URL
  std::string host;    // the Host header
  // Ours first (User-Agent, Accept, ...); then the user's, which replace
  // ours of the same name, and an empty value removes it (curl's -H "X:").
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> body;
};

// "Name: value" as typed with -H. Nothing, with `error`, if malformed.
std::optional<std::pair<std::string, std::string>> parse_header_option(std::string_view text,
                                                                       std::string& error);

// Sets `name` to `value`, replacing any of the same name (case-insensitive);
// an empty value removes it.
void set_header(std::vector<std::pair<std::string, std::string>>& headers, std::string name,
                std::string value);

// The request's bytes. Throws std::invalid_argument naming a part that is
// not allowed (a control character in a name or value, a bad method).
std::string serialize(const Request& request);

// "Basic dXNlcjpwYXNz" for -u user:pass.
std::string basic_authorization(std::string_view user_and_password);

}  // namespace sockit::codec::http
