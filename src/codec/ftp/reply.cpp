#include "codec/ftp/reply.hpp"

#include <cstdio>

namespace sockit::codec::ftp {

namespace {
std::string code_text(int code, char separator) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%03d%c", code % 1000, separator);
  return buffer;
}
}  // namespace

std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c == '\r' || c == '\n') c = ' ';
  return out;
}

std::string quote_path(std::string_view path) {
  std::string out;
  out.reserve(path.size() + 2);
  for (char c : path) {
    if (c == '\r' || c == '\n') c = ' ';
    out += c;
    if (c == '"') out += '"';
  }
  return out;
}

std::string format_reply(int code, std::string_view text) {
  if (text.find('\n') == std::string_view::npos) return code_text(code, ' ') + one_line(text) + "\r\n";
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    auto line = text.substr(start, end - start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    lines.emplace_back(line);
    start = end + 1;
  }
  std::string out = code_text(code, '-') + one_line(lines.front()) + "\r\n";
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) out += " " + one_line(lines[i]) + "\r\n";
  out += code_text(code, ' ') + one_line(lines.back()) + "\r\n";
  return out;
}

std::string format_multiline(int code, std::string_view first, const std::vector<std::string>& body,
                             std::string_view last) {
  std::string out = code_text(code, '-') + one_line(first) + "\r\n";
  for (const auto& line : body) out += " " + one_line(line) + "\r\n";
  out += code_text(code, ' ') + one_line(last) + "\r\n";
  return out;
}

}  // namespace sockit::codec::ftp
