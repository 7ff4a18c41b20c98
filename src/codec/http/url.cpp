#include "codec/http/url.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace sockit::codec::http {
namespace urls = boost::urls;

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool has_scheme(std::string_view text) {
  auto colon = text.find("://");
  if (colon == std::string_view::npos || colon == 0) return false;
  return std::all_of(text.begin(), text.begin() + static_cast<long>(colon),
                     [](unsigned char c) { return std::isalnum(c) || c == '+' || c == '-' || c == '.'; });
}

// A file name is what is left after the last '/' or '\\', and must be a
// plain name: a server does not choose where a download goes.
std::string safe_name(std::string name) {
  auto slash = name.find_last_of("/\\");
  if (slash != std::string::npos) name.erase(0, slash + 1);
  if (name == "." || name == ".." || name.find('\0') != std::string::npos) return {};
  if (std::any_of(name.begin(), name.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) return {};
  return name;
}

std::optional<Url> from_view(const urls::url_view& view, std::string_view text, std::string& error) {
  Url url;
  url.scheme = lower(view.scheme());
  if (!view.has_authority() || view.host_type() == urls::host_type::none || view.encoded_host().empty()) {
    error = "bad URL '" + std::string(text) + "': no host";
    return std::nullopt;
  }
  if (view.host_type() == urls::host_type::ipv6)
    url.host = view.host_address();  // without brackets
  else
    url.host = lower(view.host());
  url.port = default_port(url.scheme);
  if (view.has_port()) {
    auto digits = view.port();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value == 0 ||
        value > 65535) {
      error = "bad URL '" + std::string(text) + "': bad port '" + std::string(digits) + "'";
      return std::nullopt;
    }
    url.port = static_cast<std::uint16_t>(value);
  }
  url.target = std::string(view.encoded_path());
  if (url.target.empty() || url.target.front() != '/') url.target.insert(0, "/");
  if (view.has_query()) url.target += "?" + std::string(view.encoded_query());
  if (view.has_userinfo()) {
    url.has_user = true;
    url.user = view.user();
    url.password = view.password();
  }
  return url;
}

}  // namespace

std::uint16_t default_port(std::string_view scheme) {
  if (scheme == "http") return 80;
  if (scheme == "https") return 443;
  if (scheme == "ftp") return 21;
  if (scheme == "ftps") return 990;
  return 0;
}

std::string Url::authority() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != default_port(scheme)) out += ":" + std::to_string(port);
  return out;
}

std::string Url::text() const {
  return scheme + "://" + authority() + target;
}

bool Url::same_origin(const Url& other) const {
  return scheme == other.scheme && host == other.host && port == other.port;
}

std::optional<Url> parse_url(std::string_view text, std::string& error) {
  if (text.empty()) {
    error = "bad URL '': empty";
    return std::nullopt;
  }
  // As curl: "example.com/x" means http://example.com/x.
  std::string full = has_scheme(text) ? std::string(text) : "http://" + std::string(text);
  auto parsed = urls::parse_uri(full);
  if (!parsed) {
    error = "bad URL '" + std::string(text) + "': " + parsed.error().message();
    return std::nullopt;
  }
  return from_view(*parsed, text, error);
}

std::optional<Url> resolve_location(const Url& base, std::string_view location, std::string& error) {
  auto reference = urls::parse_uri_reference(location);
  if (!reference) {
    error = "bad Location '" + std::string(location) + "': " + reference.error().message();
    return std::nullopt;
  }
  std::string base_text = base.text();  // the view below points into it
  auto base_view = urls::parse_uri(base_text);
  if (!base_view) {
    error = "bad base URL " + base.text();
    return std::nullopt;
  }
  urls::url resolved;
  auto result = urls::resolve(*base_view, *reference, resolved);
  if (!result) {
    error = "bad Location '" + std::string(location) + "': " + result.error().message();
    return std::nullopt;
  }
  resolved.remove_fragment();
  return from_view(resolved, location, error);
}

std::string file_name_from_url(const Url& url) {
  std::string path = url.target.substr(0, url.target.find('?'));
  auto last = path.substr(path.rfind('/') + 1);
  auto decoded = urls::make_pct_string_view(last);
  if (!decoded) return {};
  return safe_name(decoded->decode());
}

std::string file_name_from_disposition(std::string_view header) {
  std::string plain, extended;
  // Parameters are ';'-separated name=value, values plain or quoted.
  std::size_t at = header.find(';');
  while (at != std::string_view::npos && at < header.size()) {
    ++at;
    while (at < header.size() && (header[at] == ' ' || header[at] == '\t')) ++at;
    auto eq = header.find('=', at);
    if (eq == std::string_view::npos) break;
    std::string name = lower(header.substr(at, eq - at));
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
    std::size_t v = eq + 1;
    while (v < header.size() && (header[v] == ' ' || header[v] == '\t')) ++v;
    std::string value;
    std::size_t next;
    if (v < header.size() && header[v] == '"') {
      std::size_t i = v + 1;
      for (; i < header.size() && header[i] != '"'; ++i) {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        value += header[i];
      }
      next = header.find(';', i);
    } else {
      next = header.find(';', v);
      value =
          std::string(header.substr(v, next == std::string_view::npos ? std::string_view::npos : next - v));
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    }
    if (name == "filename") plain = value;
    if (name == "filename*") {
      // RFC 5987: charset'language'percent-encoded; only UTF-8 is taken.
      auto first = value.find('\'');
      auto second = first == std::string::npos ? std::string::npos : value.find('\'', first + 1);
      if (second != std::string::npos && lower(value.substr(0, first)) == "utf-8") {
        std::string encoded = value.substr(second + 1);  // the view below points into it
        auto decoded = urls::make_pct_string_view(encoded);
        if (decoded) extended = decoded->decode();
      }
    }
    at = next;
  }
  return safe_name(!extended.empty() ? extended : plain);
}

}  // namespace sockit::codec::http
