#include "codec/ftp/ftp_url.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <cctype>
#include <charconv>

namespace sockit::codec::ftp {

namespace urls = boost::urls;

namespace {

bool has_scheme(std::string_view text) {
  auto colon = text.find("://");
  return colon != std::string_view::npos && colon > 0 &&
         text.substr(0, colon).find_first_of("/@[") == std::string_view::npos;
}

bool unsafe(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

}  // namespace

std::optional<FtpUrl> parse_ftp_url(std::string_view text, std::string& error) {
  auto fail = [&](std::string_view why) {
    error = "bad URL '" + std::string(text) + "': " + std::string(why);
    return std::nullopt;
  };
  if (text.empty()) return fail("empty");
  std::string full = has_scheme(text) ? std::string(text) : "ftp://" + std::string(text);
  auto parsed = urls::parse_uri(full);
  if (!parsed) return fail(parsed.error().message());
  const urls::url_view& view = *parsed;
  FtpUrl url;
  std::string scheme = std::string(view.scheme());
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme == "ftps") {
    url.implicit_tls = true;
    url.port = 990;
  } else if (scheme != "ftp") {
    return fail("not an ftp:// or ftps:// URL");
  }
  if (!view.has_authority() || view.host_type() == urls::host_type::none || view.encoded_host().empty())
    return fail("no host");
  url.host = view.host_type() == urls::host_type::ipv6 ? std::string(view.host_address())  // no brackets
                                                       : std::string(view.host());
  if (view.has_port()) {
    auto digits = view.port();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value == 0 ||
        value > 65535)
      return fail("bad port '" + std::string(digits) + "'");
    url.port = static_cast<std::uint16_t>(value);
  }
  if (view.has_userinfo()) {
    url.has_user = true;
    url.user = view.user();
    url.has_password = view.has_password();
    url.password = view.password();
  }
  std::string path = view.path();
  if (!path.empty() && path.front() == '/') path.erase(0, 1);
  url.path = path;
  if (unsafe(url.user) || unsafe(url.password) || unsafe(url.path) || unsafe(url.host))
    return fail("a CR, LF or NUL in it");
  return url;
}

}  // namespace sockit::codec::ftp
