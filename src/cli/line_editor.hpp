// LineEditor: the interactive prompt of every client, on libedit: line
// editing, history (kept in ~/.local/state/sockit/history-NAME).
#pragma once

#include "services/prompt.hpp"

#include <string>

namespace sockit::cli {

class LineEditor final : public services::Prompt {
 public:
  explicit LineEditor(std::string history_name);
  ~LineEditor() override;
  std::optional<std::string> read_line(const std::string& prompt) override;

 private:
  std::string history_path_;
  bool started_ = false;
};

}  // namespace sockit::cli
