#include "cli/line_editor.hpp"

#include "services/state_dir.hpp"

#include <editline/readline.h>

#include <cstdlib>
#include <filesystem>

namespace sockit::cli {

LineEditor::LineEditor(std::string history_name) {
  auto dir = services::state_dir();
  if (!dir.empty()) history_path_ = dir + "/history-" + history_name;
}

LineEditor::~LineEditor() {
  if (!started_ || history_path_.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(history_path_).parent_path(), ec);
  if (!ec) {
    write_history(history_path_.c_str());
    history_truncate_file(history_path_.c_str(), 1000);
  }
}

std::optional<std::string> LineEditor::read_line(const std::string& prompt) {
  if (!started_) {
    started_ = true;
    using_history();
    if (!history_path_.empty()) read_history(history_path_.c_str());
  }
  char* raw = readline(prompt.c_str());
  if (!raw) return std::nullopt;
  std::string line(raw);
  std::free(raw);
  if (!line.empty()) add_history(line.c_str());
  return line;
}

}  // namespace sockit::cli
