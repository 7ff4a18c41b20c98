// Jail: every file-system step of an FTP session, confined to the account's
// root. Paths arrive already normalised (codec::ftp::resolve_path) and are
// then resolved beneath the root with openat2(RESOLVE_BENEATH |
// RESOLVE_NO_MAGICLINKS): a symlink inside the root that points out of it
// fails with EXDEV instead of being followed. Operations on a name (unlink,
// mkdir, rename, stat of a link) open the parent that way and act on the
// last component only, which the kernel never follows.
#pragma once

#include "codec/ftp/listing.hpp"
#include "services/beneath.hpp"

#include <sys/stat.h>

#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace sockit::ftp {

using services::Fd;

class Jail {
 public:
  // Opens `root` (which must exist and be a directory). Throws
  // std::runtime_error naming it.
  explicit Jail(const std::string& root);

  // `path` is a normalised virtual path ("/", "/a/b").
  Fd open_directory(std::string_view path, std::error_code& ec) const;
  Fd open_read(std::string_view path, std::error_code& ec) const;
  // O_WRONLY|O_CREAT plus `flags` (O_TRUNC, O_APPEND, O_EXCL); `mode` for a
  // new file.
  Fd open_write(std::string_view path, int flags, mode_t mode, std::error_code& ec) const;
  // stat of the object itself (a symlink is not followed).
  struct stat stat_entry(std::string_view path, std::error_code& ec) const;
  // stat following symlinks, but only ones staying beneath the root.
  struct stat stat_target(std::string_view path, std::error_code& ec) const;
  std::error_code make_directory(std::string_view path) const;
  std::error_code remove_directory(std::string_view path) const;
  std::error_code remove_file(std::string_view path) const;
  std::error_code rename(std::string_view from, std::string_view to) const;

  // The entries of an open directory (not "." or ".."), sorted by name.
  static std::vector<codec::ftp::FileFacts> list(int directory_fd, std::error_code& ec);
  static codec::ftp::FileFacts facts_of(std::string name, const struct stat& st);

 private:
  // The parent directory of `path`, and its last component.
  Fd open_parent(std::string_view path, std::string& leaf, std::error_code& ec) const;
  Fd root_;
};

// A user-facing reason for a file-system error: "no such file or directory",
// "path leaves the root" (EXDEV from RESOLVE_BENEATH), ...
std::string describe_error(const std::error_code& ec);

}  // namespace sockit::ftp
