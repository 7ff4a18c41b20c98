// The FTP path resolver on arbitrary (cwd, argument) pairs: whatever a
// client sends, the result is a normalised absolute path with no "." or
// ".." part and no empty part, so it can never name anything above the root.
//
// Input: the bytes up to the first '\n' are the argument; the cwd is made
// normal first by resolving the rest against "/".
#include <string>
#include <string_view>

#include "codec/ftp/path.hpp"

namespace ftp = sockit::codec::ftp;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_normal(const std::string& path) {
  check(!path.empty() && path.front() == '/');
  check(path.size() <= ftp::kMaxPath);
  if (path == "/") return;
  check(path.back() != '/');
  std::string_view rest = std::string_view(path).substr(1);
  for (;;) {
    auto slash = rest.find('/');
    auto part = rest.substr(0, slash);
    check(!part.empty() && part != "." && part != "..");
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  check(ftp::relative_to_root(path).front() != '/');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto newline = input.find('\n');
  auto arg = input.substr(0, newline);
  auto cwd_text = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  auto cwd = ftp::resolve_path("/", cwd_text);
  if (!cwd) return 0;
  check_normal(*cwd);
  auto path = ftp::resolve_path(*cwd, arg);
  if (!path) return 0;
  check_normal(*path);
  check(ftp::is_within(*path, "/"));
  // Resolving again changes nothing.
  auto again = ftp::resolve_path("/", *path);
  check(again && *again == *path);
  auto parent = ftp::parent_path(*path);
  check_normal(parent);
  check(ftp::is_within(*path, parent));
  return 0;
}
