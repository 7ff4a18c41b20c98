#include "services/http/proxy.hpp"

#include <algorithm>
#include <cctype>

namespace sockit::http {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

}  // namespace

bool bypasses_proxy(std::string_view host, std::string_view no_proxy) {
  std::string name = lower(host);
  while (!no_proxy.empty()) {
    auto comma = no_proxy.find(',');
    auto entry = trim(no_proxy.substr(0, comma));
    no_proxy = comma == std::string_view::npos ? std::string_view() : no_proxy.substr(comma + 1);
    if (entry == "*") return true;
    std::string pattern = lower(entry);
    // A port in the entry is ignored, as curl does; "[::1]" unbracketed.
    if (!pattern.empty() && pattern.front() == '[') {
      auto close = pattern.find(']');
      pattern = pattern.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    } else if (std::count(pattern.begin(), pattern.end(), ':') == 1) {
      pattern = pattern.substr(0, pattern.find(':'));
    }
    if (!pattern.empty() && pattern.front() == '.') pattern.erase(0, 1);
    if (pattern.empty()) continue;
    if (name == pattern) return true;
    if (name.size() > pattern.size() && name.ends_with(pattern) &&
        name[name.size() - pattern.size() - 1] == '.')
      return true;
  }
  return false;
}

std::optional<codec::http::Url> proxy_for(const codec::http::Url& url, const NetworkOptions& options) {
  if (!options.unix_socket.empty()) return std::nullopt;
  const std::string& text = url.scheme == "https" ? options.https_proxy : options.http_proxy;
  if (text.empty() || bypasses_proxy(url.host, options.no_proxy)) return std::nullopt;
  std::string error;
  auto proxy = codec::http::parse_url(text, error);
  if (!proxy) throw FetchError("the proxy " + error, kBadUrl);
  if (proxy->scheme != "http")
    throw FetchError("the proxy " + proxy->text() + " is not an http:// proxy (the only kind sockit speaks)",
                     kUnsupportedProtocol);
  return proxy;
}

}  // namespace sockit::http
