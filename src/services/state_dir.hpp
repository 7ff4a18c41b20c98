// Where sockit keeps state of its own (history, known hosts, kept TLS
// pairs): $XDG_STATE_HOME/sockit, else ~/.local/state/sockit. Empty when
// neither variable is set.
#pragma once

#include <cstdlib>
#include <string>

namespace sockit::services {

inline std::string state_dir() {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg) return std::string(xdg) + "/sockit";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.local/state/sockit";
  return {};
}

}  // namespace sockit::services
