#include "services/transfer/destination.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace sockit::transfer {

namespace {

using services::last_error;

// Part files are the owner's until committed.
int open_beneath(int dir_fd, const std::string& path, std::uint64_t flags) {
  return services::open_beneath(dir_fd, path, flags, 0600);
}

timespec to_timespec(std::int64_t sec, std::uint32_t nsec) {
  timespec t{};
  t.tv_sec = static_cast<time_t>(sec);
  t.tv_nsec = static_cast<long>(nsec);
  return t;
}

// The sender's permission bits (not setuid/setgid) and mtime on a finished file.
std::error_code set_mode_and_mtime(int fd, std::uint32_t mode, std::int64_t mtime_sec,
                                   std::uint32_t mtime_nsec) {
  timespec times[2] = {{0, UTIME_OMIT}, to_timespec(mtime_sec, mtime_nsec)};
  if (::fchmod(fd, mode & 0777) != 0 || ::futimens(fd, times) != 0) return last_error();
  return {};
}

// The process's umask, read without changing it (umask(2) can only set it,
// and other threads create files too); 0777 when unknown: then every mode
// is set by fchmod.
mode_t process_umask() {
  static const mode_t mask = [] {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
      if (line.rfind("Umask:", 0) == 0) return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8));
    return static_cast<mode_t>(0777);
  }();
  return mask;
}

}  // namespace

std::string part_name(std::string_view leaf) {
  return "." + std::string(leaf) + std::string(codec::transfer::kPartSuffix);
}

Destination::Destination(const std::string& dir, bool overwrite) : dir_(dir), overwrite_(overwrite) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    throw std::runtime_error("cannot create the directory " + dir + ": " + std::strerror(errno));
  root_ = Fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_) throw std::runtime_error("cannot open the directory " + dir + ": " + std::strerror(errno));
  if (::faccessat(root_.get(), ".", W_OK, AT_EACCESS) != 0)
    throw std::runtime_error("cannot write to the directory " + dir + ": " + std::strerror(errno));
}

Destination Destination::for_another_thread() const {
  Fd root(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
  if (!root)
    throw std::runtime_error("cannot open the directory " + dir_ + " again: " + std::strerror(errno));
  return Destination(dir_, overwrite_, std::move(root));
}

int Destination::open_directory(std::string_view path, bool create, std::error_code& ec, bool* fresh) {
  if (fresh) *fresh = false;
  if (path.empty()) return root_.get();
  for (auto& cached : cached_parents_)
    if (cached.fd && cached.path == path) {
      if (fresh) *fresh = cached.fresh;
      return cached.fd.get();
    }
  bool created = false;
  Fd fd(open_beneath(root_.get(), std::string(path), O_PATH | O_DIRECTORY));
  if (!fd && errno == ENOENT && create) {
    // Walk down one component at a time, making what is missing. mkdirat()
    // of a single name never follows a symlink, and each step opens beneath
    // the directory before it, so a symlink planted in DIR is not a way out.
    fd = Fd(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
    std::string_view rest = path;
    while (fd && !rest.empty()) {
      auto slash = rest.find('/');
      std::string name(rest.substr(0, slash));
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
      created = ::mkdirat(fd.get(), name.c_str(), 0755) == 0;
      if (!created && errno != EEXIST) {
        fd = Fd();
        break;
      }
      fd = Fd(open_beneath(fd.get(), name, O_PATH | O_DIRECTORY));
    }
  }
  if (!fd) {
    ec = last_error();
    return -1;
  }
  auto& slot = cached_parents_[next_slot_];
  next_slot_ = (next_slot_ + 1) % cached_parents_.size();
  slot.path = path;
  slot.fd = std::move(fd);
  slot.fresh = created;  // the last component's mkdirat
  slot.default_acl = -1;
  if (fresh) *fresh = created;
  return slot.fd.get();
}

int Destination::parent_of(std::string_view path, bool create, std::string_view& leaf, std::error_code& ec,
                           bool* fresh) {
  auto slash = path.rfind('/');
  leaf = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return open_directory(slash == std::string_view::npos ? std::string_view() : path.substr(0, slash), create,
                        ec, fresh);
}

std::error_code Destination::make_directory(std::string_view path) {
  std::error_code ec;
  open_directory(path, true, ec);
  return ec;
}

Found Destination::find(std::string_view path, std::error_code& ec) {
  Found found;
  std::string_view leaf;
  bool fresh = false;
  int parent = parent_of(path, true, leaf, ec, &fresh);
  if (parent < 0 || fresh) return found;  // (fresh: see CachedParent)
  auto look = [&](const std::string& name, Found::Kind kind) {
    struct stat st {};
    if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
    if (!S_ISREG(st.st_mode)) {
      found.kind = Found::Kind::other;
      return true;
    }
    found.file = Fd(::openat(parent, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!found.file) {
      ec = last_error();
      return true;
    }
    found.kind = kind;
    found.size = static_cast<std::uint64_t>(st.st_size);
    return true;
  };
  // Only a final file the user may not lose matters more than a part.
  if (!overwrite_ && look(std::string(leaf), Found::Kind::final_file)) return found;
  look(part_name(leaf), Found::Kind::part);
  return found;
}

Fd Destination::open_part(std::string_view path, std::uint64_t offset, std::error_code& ec) {
  std::string_view leaf;
  int parent = parent_of(path, true, leaf, ec);
  if (parent < 0) return {};
  std::string name = part_name(leaf);
  // A fresh start usually finds no part (find() just looked): creating it
  // exclusively makes it empty already, without the ftruncate.
  bool created = offset == 0;
  Fd fd(created ? open_beneath(parent, name, O_WRONLY | O_CREAT | O_EXCL) : -1);
  if (!fd) {
    created = false;
    fd = Fd(::openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  }
  // Two transfers of one name at once (two senders to a drop folder, two
  // receivers in one DIR) would interleave their bytes in one part file,
  // each stream's digest still matching: the first holds a lock, the second
  // is refused (EBUSY). The lock goes with the descriptor. A part we just
  // created is locked too: the other transfer may open it next.
  if (fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    ec = std::make_error_code(std::errc::device_or_resource_busy);
    return {};
  }
  if (!fd || (!created && ::ftruncate(fd.get(), static_cast<off_t>(offset)) != 0)) {
    ec = last_error();
    return {};
  }
  return fd;
}

std::error_code Destination::commit(std::string_view path, int part_fd, std::uint32_t mode,
                                    std::int64_t mtime_sec, std::uint32_t mtime_nsec) {
  if (auto ec = set_mode_and_mtime(part_fd, mode, mtime_sec, mtime_nsec)) return ec;
  std::error_code ec;
  std::string_view leaf;
  int parent = parent_of(path, false, leaf, ec);
  if (parent < 0) return ec;
  std::string part = part_name(leaf);
  std::string final_name(leaf);
  unsigned flags = overwrite_ ? 0 : RENAME_NOREPLACE;
  if (::renameat2(parent, part.c_str(), parent, final_name.c_str(), flags) != 0) return last_error();
  return {};
}

bool Destination::has_default_acl(int fd) {
  int* known = fd == root_.get() ? &root_default_acl_ : nullptr;
  for (auto& cached : cached_parents_)
    if (cached.fd && cached.fd.get() == fd) known = &cached.default_acl;
  if (!known) return true;
  if (*known < 0) {
    // (An O_PATH descriptor has no fgetxattr; its /proc link does.)
    std::string self = "/proc/self/fd/" + std::to_string(fd);
    bool none = ::getxattr(self.c_str(), "system.posix_acl_default", nullptr, 0) < 0 &&
                (errno == ENODATA || errno == EOPNOTSUPP);
    *known = none ? 0 : 1;
  }
  return *known == 1;
}

Fd Destination::open_unnamed(std::string_view path, std::uint32_t mode, bool& mode_is_set,
                             std::error_code& ec) {
  mode_is_set = false;
  std::string_view leaf;
  int parent = parent_of(path, true, leaf, ec);
  if (parent < 0) return {};
  mode_t wanted = mode & 0777;
  Fd fd(::openat(parent, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, wanted));
  if (!fd && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) ec = last_error();
  mode_is_set = fd && (wanted & ~process_umask()) == wanted && !has_default_acl(parent);
  return fd;
}

std::error_code Destination::link_unnamed(std::string_view path, int fd, std::uint32_t mode, bool mode_is_set,
                                          std::int64_t mtime_sec, std::uint32_t mtime_nsec) {
  if (mode_is_set) {
    timespec times[2] = {{0, UTIME_OMIT}, to_timespec(mtime_sec, mtime_nsec)};
    if (::futimens(fd, times) != 0) return last_error();
  } else if (auto ec = set_mode_and_mtime(fd, mode, mtime_sec, mtime_nsec)) {
    return ec;
  }
  std::error_code ec;
  std::string_view leaf;
  int parent = parent_of(path, false, leaf, ec);
  if (parent < 0) return ec;
  std::string name(leaf);
  // Linux 6.10 lets the opener link its own descriptor (AT_EMPTY_PATH);
  // before, that needs CAP_DAC_READ_SEARCH, and /proc/self/fd does it.
  static std::atomic<bool> empty_path_works{true};
  if (empty_path_works.load(std::memory_order_relaxed)) {
    if (::linkat(fd, "", parent, name.c_str(), AT_EMPTY_PATH) == 0) return {};
    if (errno != ENOENT && errno != EPERM) return last_error();
    empty_path_works.store(false, std::memory_order_relaxed);
  }
  std::string self = "/proc/self/fd/" + std::to_string(fd);
  if (::linkat(AT_FDCWD, self.c_str(), parent, name.c_str(), AT_SYMLINK_FOLLOW) != 0) return last_error();
  return {};
}

void Destination::remove_part(std::string_view path) {
  std::error_code ec;
  std::string_view leaf;
  int parent = parent_of(path, false, leaf, ec);
  if (parent >= 0) ::unlinkat(parent, part_name(leaf).c_str(), 0);
}

std::error_code Destination::finish_directory(std::string_view path, std::uint32_t mode,
                                              std::int64_t mtime_sec, std::uint32_t mtime_nsec) {
  Fd fd(open_beneath(root_.get(), std::string(path), O_RDONLY | O_DIRECTORY));
  if (!fd) return last_error();
  timespec times[2] = {{0, UTIME_OMIT}, to_timespec(mtime_sec, mtime_nsec)};
  // Keep the owner able to write (a read-only directory sent as such would
  // stop a resumed transfer from adding to it).
  if (::fchmod(fd.get(), (mode & 0777) | 0700) != 0 || ::futimens(fd.get(), times) != 0) return last_error();
  return {};
}

}  // namespace sockit::transfer
