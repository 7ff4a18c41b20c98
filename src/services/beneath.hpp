// Files opened beneath a directory, never outside it: what the transfer
// receiver (transfer::Destination) and the FTP server (ftp::Jail) stand on.
// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) resolves the whole path
// inside the directory: "..", an absolute path, or a symlink pointing out
// fails with EXDEV instead of being followed.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

namespace sockit::services {

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept;
  ~Fd();
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// `path` opened beneath `dir_fd` (O_CLOEXEC added; `mode` is used with
// O_CREAT only). -1 with errno set on failure; EINTR is retried.
int open_beneath(int dir_fd, const std::string& path, std::uint64_t flags, mode_t mode = 0);

// errno, as an error_code.
inline std::error_code last_error() {
  return {errno, std::system_category()};
}

}  // namespace sockit::services
