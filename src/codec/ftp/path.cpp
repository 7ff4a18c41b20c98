#include "codec/ftp/path.hpp"

#include <vector>

namespace sockit::codec::ftp {

std::optional<std::string> resolve_path(std::string_view cwd, std::string_view arg) {
  if (arg.find('\0') != std::string_view::npos) return std::nullopt;
  if (arg.size() > kMaxPath || cwd.size() > kMaxPath) return std::nullopt;
  std::vector<std::string_view> parts;
  auto add = [&parts](std::string_view text) {
    while (!text.empty()) {
      auto slash = text.find('/');
      auto part = text.substr(0, slash);
      text = slash == std::string_view::npos ? std::string_view() : text.substr(slash + 1);
      if (part.empty() || part == ".") continue;
      if (part == "..") {
        if (!parts.empty()) parts.pop_back();  // ".." at the root stays at the root
        continue;
      }
      parts.push_back(part);
    }
  };
  if (!arg.starts_with('/')) add(cwd);
  add(arg);
  std::string out;
  for (auto part : parts) {
    out += '/';
    out += part;
  }
  if (out.empty()) out = "/";
  if (out.size() > kMaxPath) return std::nullopt;
  return out;
}

std::string relative_to_root(std::string_view virtual_path) {
  while (virtual_path.starts_with('/')) virtual_path.remove_prefix(1);
  return virtual_path.empty() ? "." : std::string(virtual_path);
}

std::string parent_path(std::string_view virtual_path) {
  auto slash = virtual_path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return "/";
  return std::string(virtual_path.substr(0, slash));
}

std::string_view leaf_name(std::string_view virtual_path) {
  auto slash = virtual_path.rfind('/');
  return slash == std::string_view::npos ? virtual_path : virtual_path.substr(slash + 1);
}

bool is_within(std::string_view path, std::string_view dir) {
  if (dir == "/") return true;
  if (!path.starts_with(dir)) return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}

}  // namespace sockit::codec::ftp
