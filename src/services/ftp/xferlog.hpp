// The transfer log in the xferlog(5) format wu-ftpd, ProFTPD and vsftpd
// write, so log analysers read ours too. One line per finished transfer;
// every session of a service appends to the one file (a mutex per line).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace sockit::ftp {

struct TransferRecord {
  std::int64_t finished = 0;  // time(2) at the end
  double seconds = 0;
  std::string remote_host;
  std::uint64_t bytes = 0;
  std::string path;  // as the client sees it
  bool binary = true;
  char direction = 'o';  // o outgoing (RETR), i incoming (STOR/APPE/STOU)
  char access = 'r';     // a anonymous, g guest, r real
  std::string user;
  bool complete = true;
};

// The line without its newline: "Mon Nov 22 10:00:00 2026 1 127.0.0.1 1024
// /a.txt b _ o r alice ftp 0 * c". Spaces in the path become '_' (the format
// has no quoting).
std::string format_xferlog(const TransferRecord& record);

class TransferLog {
 public:
  // Opens `path` for appending (created 0640). Throws std::runtime_error.
  explicit TransferLog(const std::string& path);
  ~TransferLog();
  void write(const TransferRecord& record);

 private:
  std::mutex mutex_;
  int fd_ = -1;
};

}  // namespace sockit::ftp
