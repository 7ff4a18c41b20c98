#include "codec/ftp/listing.hpp"

#include <cstdio>
#include <ctime>

namespace sockit::codec::ftp {

namespace {

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::int64_t kSixMonths = 182LL * 24 * 3600;

std::tm utc(std::int64_t seconds) {
  std::tm tm{};
  auto t = static_cast<std::time_t>(seconds);
  if (!::gmtime_r(&t, &tm)) {
    t = 0;
    ::gmtime_r(&t, &tm);
  }
  return tm;
}

char type_letter(FileFacts::Kind kind) {
  switch (kind) {
    case FileFacts::Kind::directory:
      return 'd';
    case FileFacts::Kind::symlink:
      return 'l';
    case FileFacts::Kind::other:
      return 'p';
    case FileFacts::Kind::file:
      break;
  }
  return '-';
}

// Names with CR or LF would break the line-per-entry format: shown with '?'.
std::string safe_name(std::string_view name) {
  std::string out(name);
  for (char& c : out)
    if (c == '\r' || c == '\n') c = '?';
  return out;
}

}  // namespace

std::string format_time(std::int64_t seconds) {
  auto tm = utc(seconds);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d%02d%02d%02d%02d%02d", (tm.tm_year + 1900) % 10000, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buffer;
}

std::string format_list_line(const FileFacts& facts, std::int64_t now) {
  std::string mode(10, '-');
  mode[0] = type_letter(facts.kind);
  const char* letters = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i)
    if (facts.mode & (0400u >> i)) mode[1 + i] = letters[i];
  if (facts.mode & 04000) mode[3] = mode[3] == 'x' ? 's' : 'S';
  if (facts.mode & 02000) mode[6] = mode[6] == 'x' ? 's' : 'S';
  if (facts.mode & 01000) mode[9] = mode[9] == 'x' ? 't' : 'T';
  auto tm = utc(facts.mtime);
  char when[16];
  std::int64_t age = now - facts.mtime;
  if (age < kSixMonths && age > -3600)
    std::snprintf(when, sizeof when, "%s %2d %02d:%02d", kMonths[tm.tm_mon], tm.tm_mday, tm.tm_hour,
                  tm.tm_min);
  else
    std::snprintf(when, sizeof when, "%s %2d  %4d", kMonths[tm.tm_mon], tm.tm_mday,
                  (tm.tm_year + 1900) % 10000);
  char head[128];
  std::snprintf(head, sizeof head, "%s %3llu ftp      ftp      %12llu %s ", mode.c_str(),
                static_cast<unsigned long long>(facts.links), static_cast<unsigned long long>(facts.size),
                when);
  std::string line = head + safe_name(facts.name);
  if (facts.kind == FileFacts::Kind::symlink && !facts.link_target.empty())
    line += " -> " + safe_name(facts.link_target);
  return line;
}

std::string format_facts(const FileFacts& facts, std::string_view perm, std::string_view type_override) {
  std::string type(type_override);
  if (type.empty()) {
    switch (facts.kind) {
      case FileFacts::Kind::directory:
        type = "dir";
        break;
      case FileFacts::Kind::file:
        type = "file";
        break;
      default:
        type = "OS.unix=other";
        break;
    }
  }
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", facts.mode & 07777u);
  std::string out = "type=" + type + ";";
  if (facts.kind == FileFacts::Kind::file) out += "size=" + std::to_string(facts.size) + ";";
  out += "modify=" + format_time(facts.mtime) + ";";
  out += "perm=" + std::string(perm) + ";";
  out += "unix.mode=" + std::string(mode) + "; ";
  out += safe_name(facts.name);
  return out;
}

}  // namespace sockit::codec::ftp
