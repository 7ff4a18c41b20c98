#include "services/ftp/jail.hpp"

#include "codec/ftp/path.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sockit::ftp {

using services::last_error;
using services::open_beneath;

Jail::Jail(const std::string& root) : root_(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)) {
  if (!root_) throw std::runtime_error("cannot open the FTP root " + root + ": " + std::strerror(errno));
}

Fd Jail::open_directory(std::string_view path, std::error_code& ec) const {
  Fd fd(open_beneath(root_.get(), codec::ftp::relative_to_root(path), O_RDONLY | O_DIRECTORY));
  if (!fd) ec = last_error();
  return fd;
}

Fd Jail::open_read(std::string_view path, std::error_code& ec) const {
  Fd fd(open_beneath(root_.get(), codec::ftp::relative_to_root(path), O_RDONLY | O_NOCTTY | O_NONBLOCK));
  if (!fd) {
    ec = last_error();
    return fd;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    ec = last_error();
    return {};
  }
  // A FIFO or device would block a loop or never end: regular files only.
  if (!S_ISREG(st.st_mode)) {
    ec = std::make_error_code(S_ISDIR(st.st_mode) ? std::errc::is_a_directory
                                                  : std::errc::operation_not_permitted);
    return {};
  }
  ::fcntl(fd.get(), F_SETFL, O_RDONLY);
  return fd;
}

Fd Jail::open_parent(std::string_view path, std::string& leaf, std::error_code& ec) const {
  leaf = std::string(codec::ftp::leaf_name(path));
  if (leaf.empty()) {  // the root itself has no parent here
    ec = std::make_error_code(std::errc::permission_denied);
    return {};
  }
  Fd parent(open_beneath(root_.get(), codec::ftp::relative_to_root(codec::ftp::parent_path(path)),
                         O_PATH | O_DIRECTORY));
  if (!parent) ec = last_error();
  return parent;
}

Fd Jail::open_write(std::string_view path, int flags, mode_t mode, std::error_code& ec) const {
  std::string leaf;
  Fd parent = open_parent(path, leaf, ec);
  if (!parent) return {};
  // O_NOFOLLOW: an upload never writes through a symlink, even one inside.
  Fd fd(::openat(parent.get(), leaf.c_str(),
                 O_WRONLY | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | O_NONBLOCK | flags, mode));
  if (!fd) {
    ec = last_error();
    return fd;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    ec = std::make_error_code(std::errc::operation_not_permitted);
    return {};
  }
  ::fcntl(fd.get(), F_SETFL, O_WRONLY | (flags & O_APPEND));
  return fd;
}

struct stat Jail::stat_entry(std::string_view path, std::error_code& ec) const {
  struct stat st {};
  if (path == "/") {
    if (::fstat(root_.get(), &st) != 0) ec = last_error();
    return st;
  }
  std::string leaf;
  Fd parent = open_parent(path, leaf, ec);
  if (parent && ::fstatat(parent.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) ec = last_error();
  return st;
}

struct stat Jail::stat_target(std::string_view path, std::error_code& ec) const {
  struct stat st {};
  Fd fd(open_beneath(root_.get(), codec::ftp::relative_to_root(path), O_PATH));
  if (!fd || ::fstat(fd.get(), &st) != 0) ec = last_error();
  return st;
}

std::error_code Jail::make_directory(std::string_view path) const {
  std::error_code ec;
  std::string leaf;
  Fd parent = open_parent(path, leaf, ec);
  if (parent && ::mkdirat(parent.get(), leaf.c_str(), 0755) != 0) ec = last_error();
  return ec;
}

std::error_code Jail::remove_directory(std::string_view path) const {
  std::error_code ec;
  std::string leaf;
  Fd parent = open_parent(path, leaf, ec);
  if (parent && ::unlinkat(parent.get(), leaf.c_str(), AT_REMOVEDIR) != 0) ec = last_error();
  return ec;
}

std::error_code Jail::remove_file(std::string_view path) const {
  std::error_code ec;
  std::string leaf;
  Fd parent = open_parent(path, leaf, ec);
  if (!parent) return ec;
  struct stat st {};
  if (::fstatat(parent.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return last_error();
  if (S_ISDIR(st.st_mode)) return std::make_error_code(std::errc::is_a_directory);
  if (::unlinkat(parent.get(), leaf.c_str(), 0) != 0) ec = last_error();
  return ec;
}

std::error_code Jail::rename(std::string_view from, std::string_view to) const {
  std::error_code ec;
  std::string from_leaf, to_leaf;
  Fd from_parent = open_parent(from, from_leaf, ec);
  if (!from_parent) return ec;
  Fd to_parent = open_parent(to, to_leaf, ec);
  if (!to_parent) return ec;
  if (::renameat(from_parent.get(), from_leaf.c_str(), to_parent.get(), to_leaf.c_str()) != 0)
    ec = last_error();
  return ec;
}

codec::ftp::FileFacts Jail::facts_of(std::string name, const struct stat& st) {
  codec::ftp::FileFacts facts;
  facts.name = std::move(name);
  if (S_ISDIR(st.st_mode))
    facts.kind = codec::ftp::FileFacts::Kind::directory;
  else if (S_ISREG(st.st_mode))
    facts.kind = codec::ftp::FileFacts::Kind::file;
  else if (S_ISLNK(st.st_mode))
    facts.kind = codec::ftp::FileFacts::Kind::symlink;
  else
    facts.kind = codec::ftp::FileFacts::Kind::other;
  facts.size = static_cast<std::uint64_t>(st.st_size);
  facts.mtime = st.st_mtim.tv_sec;
  facts.mode = st.st_mode & 07777;
  facts.links = st.st_nlink;
  return facts;
}

std::vector<codec::ftp::FileFacts> Jail::list(int directory_fd, std::error_code& ec) {
  std::vector<codec::ftp::FileFacts> entries;
  int fd = ::fcntl(directory_fd, F_DUPFD_CLOEXEC, 0);
  DIR* dir = fd >= 0 ? ::fdopendir(fd) : nullptr;
  if (!dir) {
    ec = last_error();
    if (fd >= 0) ::close(fd);
    return entries;
  }
  while (auto* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(directory_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    auto facts = facts_of(std::string(name), st);
    if (S_ISLNK(st.st_mode)) {
      char target[4096];
      auto n = ::readlinkat(directory_fd, entry->d_name, target, sizeof target - 1);
      if (n > 0) facts.link_target.assign(target, static_cast<std::size_t>(n));
    }
    entries.push_back(std::move(facts));
  }
  ::closedir(dir);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return entries;
}

std::string describe_error(const std::error_code& ec) {
  switch (ec.value()) {
    case EXDEV:
    case ELOOP:
      return "path leads outside your root";
    case ENOENT:
      return "no such file or directory";
    case ENOTDIR:
      return "not a directory";
    case EISDIR:
      return "is a directory";
    case EEXIST:
      return "already exists";
    case ENOTEMPTY:
      return "directory not empty";
    case EACCES:
    case EPERM:
      return "permission denied";
    case ENOSPC:
    case EDQUOT:
      return "no space left";
    case ENAMETOOLONG:
      return "name too long";
    default:
      return ec.message();
  }
}

}  // namespace sockit::ftp
