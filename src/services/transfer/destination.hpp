// Destination: the receiving directory, and every file-system step of a
// receive, confined to it. Names come from the network: each is checked
// (codec::transfer::path_problem) and every path is resolved beneath DIR
// with openat2(RESOLVE_BENEATH), so neither "..", nor an absolute name, nor a
// symlink already inside DIR can lead a write outside it. Data goes to
// `.NAME.sockit-part` and is renamed to NAME only when complete and verified.
#pragma once

#include "codec/transfer_messages.hpp"
#include "services/beneath.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace sockit::transfer {

using services::Fd;

// What a file entry finds already in DIR.
struct Found {
  enum class Kind { nothing, part, final_file, other } kind = Kind::nothing;
  std::uint64_t size = 0;
  Fd file;  // open for reading when part or final_file
};

class Destination {
 public:
  // Opens DIR, creating it (not its parents) if missing. Throws
  // std::runtime_error with a one-line message.
  Destination(const std::string& dir, bool overwrite);

  // The same directory for another thread: a Destination keeps caches, so
  // each thread uses its own. Throws std::runtime_error.
  Destination for_another_thread() const;

  const std::string& dir() const { return dir_; }
  bool overwrite() const { return overwrite_; }

  // mkdir -p of `path` beneath DIR.
  std::error_code make_directory(std::string_view path);
  // What is there for the file `path` (its parents are created).
  Found find(std::string_view path, std::error_code& ec);
  // The part file of `path`, open for writing and cut to `offset` bytes.
  Fd open_part(std::string_view path, std::uint64_t offset, std::error_code& ec);
  // Sets mode and mtime on the part file, then renames it to `path`
  // (refusing to replace an existing file without overwrite).
  std::error_code commit(std::string_view path, int part_fd, std::uint32_t mode, std::int64_t mtime_sec,
                         std::uint32_t mtime_nsec);
  void remove_part(std::string_view path);
  // A new file written in one go (no resume), created without a name
  // (O_TMPFILE), so no other transfer can open it: no lock, no part name.
  // It is created with `mode` (invisible until linked, it needs no owner-
  // only mode meanwhile); `mode_is_set` tells whether that gave exactly
  // `mode`'s permission bits (the umask keeps them all and the directory
  // has no default ACL), so that link_unnamed() need not chmod it.
  // An empty Fd, ec clear, when the file system cannot (use open_part).
  Fd open_unnamed(std::string_view path, std::uint32_t mode, bool& mode_is_set, std::error_code& ec);
  // Sets mode (unless `mode_is_set`) and mtime on a file from
  // open_unnamed(), then links it as `path`, never replacing anything
  // (EEXIST).
  std::error_code link_unnamed(std::string_view path, int fd, std::uint32_t mode, bool mode_is_set,
                               std::int64_t mtime_sec, std::uint32_t mtime_nsec);
  // Mode and mtime of a directory, set once its files are in.
  std::error_code finish_directory(std::string_view path, std::uint32_t mode, std::int64_t mtime_sec,
                                   std::uint32_t mtime_nsec);

 private:
  Destination(std::string dir, bool overwrite, Fd root)
      : dir_(std::move(dir)), overwrite_(overwrite), root_(std::move(root)) {}

  // The directory holding `path`'s last component, opened beneath DIR
  // (created when `create`), and that component.
  // `fresh` (optional): set when this receive created the directory.
  int parent_of(std::string_view path, bool create, std::string_view& leaf, std::error_code& ec,
                bool* fresh = nullptr);
  int open_directory(std::string_view path, bool create, std::error_code& ec, bool* fresh = nullptr);
  // Whether the directory `fd` (from parent_of()) has a default ACL, which,
  // not the umask, decides the mode of what is created in it. Asked once
  // per directory opened; true when unsure.
  bool has_default_acl(int fd);

  std::string dir_;
  bool overwrite_;
  Fd root_;
  // The last parents opened: files of one directory arrive together, and
  // the receiver looks at offered entries (one directory) while it writes
  // started ones (often another): one slot would be reopened for each.
  // A directory this receive created was empty: nothing in it needs
  // looking for (two failing fstatat per file). Should another transfer
  // put a name there meanwhile, the exclusive part, its lock and the
  // no-replace rename still keep both apart.
  struct CachedParent {
    std::string path;
    Fd fd;
    bool fresh = false;
    int default_acl = -1;  // -1: not asked yet, else has_default_acl()
  };
  std::array<CachedParent, 4> cached_parents_;
  std::size_t next_slot_ = 0;
  int root_default_acl_ = -1;
};

// `.NAME.sockit-part` for the last component NAME.
std::string part_name(std::string_view leaf);

}  // namespace sockit::transfer
