// Prompt: where an interactive client gets the user's next line. The CLI
// implements it with libedit (line editing, history); tests with a list.
#pragma once

#include <optional>
#include <string>

namespace sockit::services {

class Prompt {
 public:
  virtual ~Prompt() = default;
  // The next line without its newline, or nothing at end of input (Ctrl-D).
  virtual std::optional<std::string> read_line(const std::string& prompt) = 0;
};

}  // namespace sockit::services
