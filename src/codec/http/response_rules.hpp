// What a client does with a response's status and headers, kept apart from
// the I/O so each rule is unit-tested and fuzzed: which statuses redirect
// and with what method, and what a Content-Range says.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sockit::codec::http {

bool is_redirect(int status);  // 301 302 303 307 308

// The method of the request that follows a redirect (RFC 9110 15.4, as
// browsers and curl do): 303 turns anything but HEAD into GET; 301 and 302
// turn POST into GET; 307 and 308 keep the method and the body.
std::string method_after_redirect(int status, const std::string& method);
// Whether the request body goes with it.
bool body_follows_redirect(int status);

struct ContentRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;              // inclusive
  std::optional<std::uint64_t> total;  // "*" when unknown
};
// "bytes 100-199/1000", "bytes 0-9/*". Nothing if malformed or first > last
// or last >= total.
std::optional<ContentRange> parse_content_range(std::string_view value);
// "bytes */1000" in a 416: the size of what the server has.
std::optional<std::uint64_t> parse_unsatisfied_range(std::string_view value);

}  // namespace sockit::codec::http
