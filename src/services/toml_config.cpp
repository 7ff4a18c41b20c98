#include "services/toml_config.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sockit::services {

std::string read_config_file(const std::string& path, std::string_view what) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    throw std::invalid_argument(path + ": cannot read " + std::string(what) + ": " + std::strerror(errno));
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

toml::table parse_toml(std::string_view text, std::string_view source_name) {
  try {
    return toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    throw std::invalid_argument(std::string(source_name) + ":" + std::to_string(e.source().begin.line) +
                                ": " + std::string(e.description()));
  }
}

std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char escape[5];
      std::snprintf(escape, sizeof escape, "\\x%02x", c);
      out += escape;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace sockit::services
