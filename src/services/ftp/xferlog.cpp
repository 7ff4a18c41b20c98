#include "services/ftp/xferlog.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace sockit::ftp {

std::string format_xferlog(const TransferRecord& r) {
  auto t = static_cast<std::time_t>(r.finished);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char when[64];
  std::strftime(when, sizeof when, "%a %b %e %H:%M:%S %Y", &tm);
  std::string path = r.path;
  for (char& c : path)
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') c = '_';
  std::string user = r.user.empty() ? "*" : r.user;
  for (char& c : user)
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') c = '_';
  auto seconds = static_cast<long long>(std::lround(std::max(1.0, r.seconds)));
  return std::string(when) + " " + std::to_string(seconds) + " " + r.remote_host + " " +
         std::to_string(r.bytes) + " " + path + " " + (r.binary ? "b" : "a") + " _ " + r.direction + " " +
         r.access + " " + user + " ftp 0 * " + (r.complete ? "c" : "i");
}

TransferLog::TransferLog(const std::string& path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) throw std::runtime_error("cannot open the transfer log " + path + ": " + std::strerror(errno));
}

TransferLog::~TransferLog() {
  if (fd_ >= 0) ::close(fd_);
}

void TransferLog::write(const TransferRecord& record) {
  auto line = format_xferlog(record) + "\n";
  std::lock_guard lock(mutex_);
  // O_APPEND: one write(2) per line keeps lines whole even across processes.
  [[maybe_unused]] auto n = ::write(fd_, line.data(), line.size());
}

}  // namespace sockit::ftp
