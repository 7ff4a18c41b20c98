#include "codec/ftp/remote_listing.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace sockit::codec::ftp {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::uint64_t> number(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool usable_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('\0') == std::string_view::npos;
}

struct Token {
  std::string_view text;
  std::size_t end;  // where it ends in the line
};

std::vector<Token> tokens(std::string_view line, std::size_t most) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < line.size() && out.size() < most) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    out.push_back({line.substr(start, i - start), i});
  }
  return out;
}

bool is_month(std::string_view word) {
  static constexpr std::array<std::string_view, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                               "jul", "aug", "sep", "oct", "nov", "dec"};
  return std::any_of(kMonths.begin(), kMonths.end(), [&](std::string_view m) { return iequals(m, word); });
}

bool is_day(std::string_view word) {
  auto day = number(word);
  return day && *day >= 1 && *day <= 31;
}

// "12:34" or "2024".
bool is_time_or_year(std::string_view word) {
  if (word.size() == 4) return number(word).has_value();
  auto colon = word.find(':');
  return colon != std::string_view::npos && colon > 0 && number(word.substr(0, colon)) &&
         number(word.substr(colon + 1));
}

// The name after the date: one separating blank dropped, the rest kept
// (names may begin with or hold blanks).
std::string_view rest_after(std::string_view line, std::size_t end) {
  if (end < line.size() && (line[end] == ' ' || line[end] == '\t')) ++end;
  return line.substr(std::min(end, line.size()));
}

std::optional<RemoteEntry> parse_unix(std::string_view line) {
  auto words = tokens(line, 10);
  if (words.size() < 8) return std::nullopt;
  std::string_view mode = words[0].text;
  if (mode.size() < 10) return std::nullopt;
  RemoteEntry entry;
  switch (mode[0]) {
    case '-':
      entry.kind = RemoteEntry::Kind::file;
      break;
    case 'd':
      entry.kind = RemoteEntry::Kind::directory;
      break;
    case 'l':
      entry.kind = RemoteEntry::Kind::link;
      break;
    case 'b':
    case 'c':
    case 'p':
    case 's':
      entry.kind = RemoteEntry::Kind::other;
      break;
    default:
      return std::nullopt;
  }
  // The date is three words: a month, a day, a time or a year; the size is
  // the word before it (owner and group may be one word or two).
  for (std::size_t m = 3; m + 2 < words.size(); ++m) {
    if (!is_month(words[m].text) || !is_day(words[m + 1].text) || !is_time_or_year(words[m + 2].text))
      continue;
    auto size = number(words[m - 1].text);
    if (!size) continue;
    std::string_view name = rest_after(line, words[m + 2].end);
    if (entry.kind == RemoteEntry::Kind::link) {
      auto arrow = name.find(" -> ");
      if (arrow != std::string_view::npos) name = name.substr(0, arrow);
    }
    if (!usable_name(name)) return std::nullopt;
    entry.name = std::string(name);
    if (entry.kind == RemoteEntry::Kind::file) entry.size = *size;
    return entry;
  }
  return std::nullopt;
}

// "03-05-24  12:34PM       <DIR>          name" / "... 1234 name".
std::optional<RemoteEntry> parse_dos(std::string_view line) {
  auto words = tokens(line, 3);
  if (words.size() < 3) return std::nullopt;
  auto date = words[0].text;
  if (date.size() < 8 || !std::isdigit(static_cast<unsigned char>(date[0])) || date[2] != '-')
    return std::nullopt;
  auto time = words[1].text;
  if (time.find(':') == std::string_view::npos) return std::nullopt;
  RemoteEntry entry;
  if (iequals(words[2].text, "<DIR>")) {
    entry.kind = RemoteEntry::Kind::directory;
  } else if (auto size = number(words[2].text)) {
    entry.size = *size;
  } else {
    return std::nullopt;
  }
  std::string_view name = line.substr(words[2].end);
  while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
  if (!usable_name(name)) return std::nullopt;
  entry.name = std::string(name);
  return entry;
}

}  // namespace

std::optional<RemoteEntry> parse_mlsd_line(std::string_view line) {
  auto space = line.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view facts = line.substr(0, space);
  std::string_view name = line.substr(space + 1);
  if (!usable_name(name)) return std::nullopt;
  RemoteEntry entry;
  entry.name = std::string(name);
  bool typed = false;
  while (!facts.empty()) {
    auto semi = facts.find(';');
    std::string_view fact = facts.substr(0, semi);
    facts = semi == std::string_view::npos ? std::string_view() : facts.substr(semi + 1);
    auto equals = fact.find('=');
    if (equals == std::string_view::npos) continue;
    std::string_view key = fact.substr(0, equals), value = fact.substr(equals + 1);
    if (iequals(key, "type")) {
      typed = true;
      if (iequals(value, "file"))
        entry.kind = RemoteEntry::Kind::file;
      else if (iequals(value, "dir"))
        entry.kind = RemoteEntry::Kind::directory;
      else if (iequals(value, "cdir") || iequals(value, "pdir"))
        return std::nullopt;
      else if (iequals(value, "OS.unix=symlink") || iequals(value, "OS.unix=slink"))
        entry.kind = RemoteEntry::Kind::link;
      else
        entry.kind = RemoteEntry::Kind::other;
    } else if (iequals(key, "size")) {
      entry.size = number(value);
    }
  }
  if (!typed) return std::nullopt;
  if (entry.kind != RemoteEntry::Kind::file) entry.size.reset();
  return entry;
}

std::optional<RemoteEntry> parse_list_line(std::string_view line) {
  if (auto entry = parse_unix(line)) return entry;
  return parse_dos(line);
}

std::vector<RemoteEntry> parse_listing(std::string_view text, ListingFormat format) {
  std::vector<RemoteEntry> out;
  while (!text.empty()) {
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    std::optional<RemoteEntry> entry;
    switch (format) {
      case ListingFormat::mlsd:
        entry = parse_mlsd_line(line);
        break;
      case ListingFormat::list:
        entry = parse_list_line(line);
        break;
      case ListingFormat::nlst: {
        while (line.size() > 1 && line.back() == '/') line.remove_suffix(1);
        auto slash = line.rfind('/');
        std::string_view name = slash == std::string_view::npos ? line : line.substr(slash + 1);
        if (usable_name(name))
          entry = RemoteEntry{std::string(name), RemoteEntry::Kind::unknown, std::nullopt};
        break;
      }
    }
    if (entry) out.push_back(std::move(*entry));
  }
  return out;
}

}  // namespace sockit::codec::ftp
