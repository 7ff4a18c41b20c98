// Tokens: where the exec server and client get the shared secret, how it is
// compared, and how failed attempts are counted per client address.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sockit::exec {

inline constexpr const char* kTokenEnvironment = "SOCKIT_TOKEN";

// The token from `file` (when given; a trailing newline is dropped) or else
// from $SOCKIT_TOKEN. Nothing when neither has one. Throws
// std::invalid_argument for an unreadable or empty file.
std::optional<std::string> load_token(const std::string& file);

// Compares in constant time: both sides are hashed (SHA-256) first, so
// neither the content nor the length of the secret shows in the timing.
class TokenVerifier {
 public:
  explicit TokenVerifier(std::string_view token);
  bool matches(std::string_view offered) const;

 private:
  unsigned char digest_[32];
};

// Failed authentications per client IP. After `max_failures` within
// `window`, the IP is locked out until `window` has passed since its last
// failure. Shared by every loop of a service (one mutex, taken once per
// authentication).
class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  AuthThrottle(unsigned max_failures, Clock::duration window)
      : max_failures_(max_failures), window_(window) {}

  bool locked_out(const std::string& ip, Clock::time_point now = Clock::now());
  // Returns the failures counted for `ip` so far.
  unsigned record_failure(const std::string& ip, Clock::time_point now = Clock::now());
  void record_success(const std::string& ip);

 private:
  struct Entry {
    unsigned failures = 0;
    Clock::time_point last;
  };
  void forget_old(Clock::time_point now);

  const unsigned max_failures_;
  const Clock::duration window_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace sockit::exec
