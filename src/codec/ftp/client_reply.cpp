#include "codec/ftp/client_reply.hpp"

#include <cctype>
#include <charconv>
#include <utility>

namespace sockit::codec::ftp {

namespace {

// The three digits of a line that starts with them, else 0.
int code_of(std::string_view line) {
  if (line.size() < 3) return 0;
  for (std::size_t i = 0; i < 3; ++i)
    if (!std::isdigit(static_cast<unsigned char>(line[i]))) return 0;
  int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  return code >= 100 && code < 600 ? code : 0;
}

}  // namespace

std::optional<ClientReply> FtpReplyReader::next(std::string& error) {
  for (;;) {
    auto eol = pending_.find('\n');
    if (eol == std::string::npos) {
      if (pending_.size() > kMaxLine) error = "the server sent a reply line longer than 8 KiB";
      return std::nullopt;
    }
    std::string line = pending_.substr(0, eol);
    pending_.erase(0, eol + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > kMaxLine || ++lines_ > kMaxLines) {
      error = "the server sent an oversized reply";
      return std::nullopt;
    }
    int code = code_of(line);
    if (!in_multiline_) {
      if (code == 0 || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
        error = "the server sent something that is not an FTP reply: " + line.substr(0, 80);
        return std::nullopt;
      }
      partial_ = ClientReply{code, line.size() > 4 ? line.substr(4) : std::string()};
      if (line.size() > 3 && line[3] == '-') {
        in_multiline_ = true;
        continue;
      }
    } else {
      // Inner lines may be anything; "NNN " with the same code ends it.
      bool last = code == partial_.code && (line.size() == 3 || line[3] == ' ');
      partial_.text += "\n" + (last ? (line.size() > 4 ? line.substr(4) : std::string()) : line);
      if (!last) continue;
      in_multiline_ = false;
    }
    lines_ = 0;
    return std::move(partial_);
  }
}

std::optional<std::string> parse_pwd_reply(std::string_view text) {
  auto open = text.find('"');
  if (open == std::string_view::npos) return std::nullopt;
  std::string path;
  for (std::size_t i = open + 1; i < text.size(); ++i) {
    if (text[i] != '"') {
      path += text[i];
    } else if (i + 1 < text.size() && text[i + 1] == '"') {
      path += '"';  // "" inside stands for one quote (RFC 959 appendix II)
      ++i;
    } else {
      return path;
    }
  }
  return std::nullopt;  // no closing quote
}

std::set<std::string> parse_feat_reply(std::string_view text) {
  std::set<std::string> features;
  bool first = true;
  while (!text.empty()) {
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    bool last = eol == std::string_view::npos;
    text = last ? std::string_view() : text.substr(eol + 1);
    if (std::exchange(first, false)) continue;  // "Features:"
    // Feature lines start with a blank; the closing line ("End") does not.
    if (line.empty() || line.front() != ' ') continue;
    auto start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) continue;
    auto end = line.find(' ', start);
    std::string word(line.substr(start, end == std::string_view::npos ? end : end - start));
    for (auto& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    features.insert(std::move(word));
  }
  return features;
}

namespace {

std::optional<std::int64_t> digits(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || text.front() == '-')
    return std::nullopt;
  return value;
}

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

std::optional<std::int64_t> parse_mdtm_reply(std::string_view text) {
  auto dot = text.find('.');
  if (dot != std::string_view::npos) {
    auto fraction = text.substr(dot + 1);
    if (fraction.empty() || fraction.size() > 9 || !digits(fraction)) return std::nullopt;
    text = text.substr(0, dot);
  }
  if (text.size() != 14) return std::nullopt;
  auto part = [&](std::size_t at, std::size_t n) { return digits(text.substr(at, n)); };
  auto year = part(0, 4), month = part(4, 2), day = part(6, 2);
  auto hour = part(8, 2), minute = part(10, 2), second = part(12, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60)
    return std::nullopt;
  return days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day)) * 86400 +
         *hour * 3600 + *minute * 60 + *second;
}

std::optional<std::uint64_t> parse_size_reply(std::string_view text) {
  auto end = text.find_first_of(" \n");
  text = text.substr(0, end);
  std::uint64_t value = 0;
  auto [stop, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || stop != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace sockit::codec::ftp
