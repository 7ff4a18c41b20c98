// What the TOML configuration files (`sockit serve --config`, the chat
// contact book) share: reading the file, parsing it, and errors that reach
// the user as one line.
#pragma once

#include <toml++/toml.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace sockit::services {

// The whole file; throws std::invalid_argument "PATH: cannot read WHAT: reason".
std::string read_config_file(const std::string& path, std::string_view what);

// Throws std::invalid_argument "SOURCE:LINE: what is wrong".
toml::table parse_toml(std::string_view text, std::string_view source_name);

// Control characters as escapes: "\n", "\t", "\x1b"; everything else kept.
std::string one_line(std::string_view text);

// Runs `read` and lets a std::invalid_argument out as one printable line:
// a TOML string may hold a newline or an escape sequence, and the error
// quoting it goes to a terminal (and to scripts that read one line).
template <typename Read>
auto with_one_line_errors(Read read) -> decltype(read()) {
  try {
    return read();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(one_line(e.what()));
  }
}

}  // namespace sockit::services
