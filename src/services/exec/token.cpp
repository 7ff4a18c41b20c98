#include "services/exec/token.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sockit::exec {

std::optional<std::string> load_token(const std::string& file) {
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::invalid_argument("token file " + file + ": cannot read it");
    std::stringstream text;
    text << in.rdbuf();
    std::string token = text.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    if (token.empty()) throw std::invalid_argument("token file " + file + " is empty");
    return token;
  }
  if (const char* value = std::getenv(kTokenEnvironment); value && *value) return std::string(value);
  return std::nullopt;
}

TokenVerifier::TokenVerifier(std::string_view token) {
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest_);
}

bool TokenVerifier::matches(std::string_view offered) const {
  unsigned char digest[32];
  SHA256(reinterpret_cast<const unsigned char*>(offered.data()), offered.size(), digest);
  return CRYPTO_memcmp(digest, digest_, sizeof digest) == 0;
}

void AuthThrottle::forget_old(Clock::time_point now) {
  // Bounded memory against an attacker with many addresses: entries older
  // than the window carry no information any more.
  if (entries_.size() < 4096) return;
  std::erase_if(entries_, [&](const auto& item) { return now - item.second.last > window_; });
}

bool AuthThrottle::locked_out(const std::string& ip, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(ip);
  if (it == entries_.end()) return false;
  if (now - it->second.last > window_) {
    entries_.erase(it);
    return false;
  }
  return max_failures_ > 0 && it->second.failures >= max_failures_;
}

unsigned AuthThrottle::record_failure(const std::string& ip, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  forget_old(now);
  auto& entry = entries_[ip];
  if (entry.failures > 0 && now - entry.last > window_) entry.failures = 0;
  ++entry.failures;
  entry.last = now;
  return entry.failures;
}

void AuthThrottle::record_success(const std::string& ip) {
  std::lock_guard lock(mutex_);
  entries_.erase(ip);
}

}  // namespace sockit::exec
