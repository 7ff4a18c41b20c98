#include "codec/http/response_rules.hpp"

#include <charconv>

namespace sockit::codec::http {

namespace {

std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty() || text.size() > 19) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// "bytes " prefix, case-insensitive, then the rest.
std::optional<std::string_view> after_bytes_unit(std::string_view value) {
  value = trim(value);
  if (value.size() < 6) return std::nullopt;
  for (std::size_t i = 0; i < 5; ++i)
    if ((value[i] | 0x20) != "bytes"[i]) return std::nullopt;
  if (value[5] != ' ') return std::nullopt;
  return trim(value.substr(6));
}

}  // namespace

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string method_after_redirect(int status, const std::string& method) {
  if (status == 303 && method != "HEAD") return "GET";
  if ((status == 301 || status == 302) && method == "POST") return "GET";
  return method;
}

bool body_follows_redirect(int status) {
  return status == 307 || status == 308;
}

std::optional<ContentRange> parse_content_range(std::string_view value) {
  auto rest = after_bytes_unit(value);
  if (!rest) return std::nullopt;
  auto dash = rest->find('-');
  auto slash = rest->find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash) return std::nullopt;
  auto first = number(rest->substr(0, dash));
  auto last = number(rest->substr(dash + 1, slash - dash - 1));
  if (!first || !last || *first > *last) return std::nullopt;
  ContentRange range{*first, *last, std::nullopt};
  auto total_text = rest->substr(slash + 1);
  if (total_text != "*") {
    auto total = number(total_text);
    if (!total || *last >= *total) return std::nullopt;
    range.total = total;
  }
  return range;
}

std::optional<std::uint64_t> parse_unsatisfied_range(std::string_view value) {
  auto rest = after_bytes_unit(value);
  if (!rest || !rest->starts_with("*/")) return std::nullopt;
  return number(rest->substr(2));
}

}  // namespace sockit::codec::http
