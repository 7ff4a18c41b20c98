#include "codec/shell_words.hpp"

namespace sockit::codec {

namespace {

bool blank(std::string_view command) {
  return command.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

std::vector<std::string> split_commands(std::string_view script) {
  std::vector<std::string> out;
  std::string current;
  char quote = 0;
  bool escaped = false;
  for (char c : script) {
    if (escaped) {
      escaped = false;
    } else if (quote) {
      if (c == quote)
        quote = 0;
      else if (c == '\\' && quote == '"')
        escaped = true;
    } else if (c == '\\') {
      escaped = true;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == ';' || c == '\n') {
      if (!blank(current)) out.push_back(current);
      current.clear();
      continue;
    }
    current += c;
  }
  if (!blank(current)) out.push_back(current);
  return out;
}

std::optional<std::vector<std::string>> split_words(std::string_view line, std::string& error) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\0') {
      error = "a NUL byte in the command";
      return std::nullopt;
    }
    if (quote == '\'') {
      if (c == '\'')
        quote = 0;
      else
        word += c;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= line.size()) {
        error = "a backslash at the end of the command";
        return std::nullopt;
      }
      char next = line[++i];
      // Inside "...", a backslash only escapes what would be special there.
      if (quote == '"' && next != '"' && next != '\\') word += '\\';
      word += next;
      in_word = true;
      continue;
    }
    if (quote == '"') {
      if (c == '"')
        quote = 0;
      else
        word += c;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    word += c;
    in_word = true;
  }
  if (quote) {
    error = std::string("an unclosed ") + (quote == '\'' ? "'" : "\"") + " in the command";
    return std::nullopt;
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

}  // namespace sockit::codec
