#include "codec/http/request.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace sockit::codec::http {

namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

// RFC 9110 token characters: what a method or a header name may hold.
bool is_token(std::string_view text) {
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isalnum(c) || kExtra.find(static_cast<char>(c)) != std::string_view::npos;
  });
}

bool is_field_value(std::string_view text) {
  return std::none_of(text.begin(), text.end(),
                      [](unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<std::pair<std::string, std::string>> parse_header_option(std::string_view text,
                                                                       std::string& error) {
  auto colon = text.find(':');
  std::string_view name = colon == std::string_view::npos ? text : text.substr(0, colon);
  if (colon == std::string_view::npos || !is_token(name)) {
    error = "bad header '" + std::string(text) + "': give it as 'Name: value'";
    return std::nullopt;
  }
  auto value = trim(text.substr(colon + 1));
  if (!is_field_value(value)) {
    error = "bad header '" + std::string(name) + "': its value holds a control character";
    return std::nullopt;
  }
  return std::make_pair(std::string(name), std::string(value));
}

void set_header(std::vector<std::pair<std::string, std::string>>& headers, std::string name,
                std::string value) {
  auto same = [&](const auto& header) { return equal_ignoring_case(header.first, name); };
  auto at = std::find_if(headers.begin(), headers.end(), same);
  if (at != headers.end()) {
    headers.erase(std::remove_if(at + 1, headers.end(), same), headers.end());
    if (value.empty()) {
      headers.erase(at);
    } else {
      at->first = std::move(name);  // the user's spelling, as curl sends it
      at->second = std::move(value);
    }
  } else if (!value.empty()) {
    headers.emplace_back(std::move(name), std::move(value));
  }
}

std::string serialize(const Request& request) {
  if (!is_token(request.method)) throw std::invalid_argument("bad method '" + request.method + "'");
  if (request.target.empty() || !is_field_value(request.target) ||
      request.target.find_first_of(" \t") != std::string::npos)
    throw std::invalid_argument("bad request target '" + request.target + "'");
  if (!is_field_value(request.host)) throw std::invalid_argument("bad host '" + request.host + "'");
  std::string out = request.method + " " + request.target + " HTTP/1.1\r\nHost: " + request.host + "\r\n";
  bool has_length = false;
  for (const auto& [name, value] : request.headers) {
    if (!is_token(name)) throw std::invalid_argument("bad header name '" + name + "'");
    if (!is_field_value(value)) throw std::invalid_argument("bad header '" + name + "': a control character");
    if (equal_ignoring_case(name, "host")) continue;  // ours, above
    if (equal_ignoring_case(name, "content-length")) has_length = true;
    out += name + ": " + value + "\r\n";
  }
  if (request.body && !has_length) out += "Content-Length: " + std::to_string(request.body->size()) + "\r\n";
  out += "\r\n";
  if (request.body) out += *request.body;
  return out;
}

std::string basic_authorization(std::string_view user_and_password) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "Basic ";
  std::size_t i = 0;
  auto byte = [&](std::size_t at) { return static_cast<unsigned char>(user_and_password[at]); };
  for (; i + 2 < user_and_password.size(); i += 3) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += {kAlphabet[v >> 18], kAlphabet[v >> 12 & 63], kAlphabet[v >> 6 & 63], kAlphabet[v & 63]};
  }
  if (std::size_t left = user_and_password.size() - i; left > 0) {
    unsigned v = byte(i) << 16 | (left == 2 ? byte(i + 1) << 8 : 0);
    out += kAlphabet[v >> 18];
    out += kAlphabet[v >> 12 & 63];
    out += left == 2 ? kAlphabet[v >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace sockit::codec::http
