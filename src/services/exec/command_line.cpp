#include "services/exec/command_line.hpp"

#include <unistd.h>

#include <algorithm>
#include <sstream>

namespace sockit::exec {

namespace {

std::vector<std::string> split_words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// The program's path, or empty if not found. Names with a '/' are used as
// they are (relative to the command's directory), as a shell does.
std::string find_program(const std::string& name, const std::string& path, const std::string& dir) {
  if (name.find('/') != std::string::npos) return name;
  std::istringstream dirs(path);
  for (std::string entry; std::getline(dirs, entry, ':');) {
    if (entry.empty()) entry = ".";
    std::string candidate = entry + "/" + name;
    std::string checked = candidate.front() == '/' || dir.empty() ? candidate : dir + "/" + candidate;
    if (::access(checked.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

}  // namespace

std::variant<PreparedCommand, Refusal> prepare_command(const codec::exec::Run& run, const ExecConfig& config,
                                                       const std::string& path) {
  using codec::exec::RunForm;
  if (config.shell) {
    std::string line;
    for (const auto& arg : run.args) line += (line.empty() ? "" : " ") + arg;  // ssh's way
    return PreparedCommand{"/bin/sh", {"-c", line}};
  }
  auto words = run.form == RunForm::command_line ? split_words(run.args.front()) : run.args;
  if (words.empty()) return Refusal{127, "sockit: empty command"};
  const std::string& name = words.front();
  if (!config.allow.empty()) {
    // A listed name allows that program found on PATH; a listed path, that
    // file exactly. "../bin/x" never matches "x".
    bool allowed = std::find(config.allow.begin(), config.allow.end(), name) != config.allow.end();
    if (!allowed)
      return Refusal{126, "sockit: " + name + ": not allowed on this server (allowed: " + [&] {
                       std::string list;
                       for (const auto& a : config.allow) list += (list.empty() ? "" : ", ") + a;
                       return list;
                     }() + ")"};
  }
  std::string program = find_program(name, path, config.dir);
  if (program.empty()) return Refusal{127, "sockit: " + name + ": command not found"};
  return PreparedCommand{program, {words.begin() + 1, words.end()}};
}

}  // namespace sockit::exec
