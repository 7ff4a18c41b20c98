// Transfers: LIST NLST MLSD RETR STOR APPE STOU (the data connection itself
// is session_data.cpp's).
#include "codec/ftp/address.hpp"
#include "codec/ftp/listing.hpp"
#include "codec/ftp/path.hpp"
#include "codec/ftp/reply.hpp"
#include "services/ftp/ftps.hpp"
#include "services/ftp/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <charconv>
#include <ctime>
#include <new>
#include <random>

namespace sockit::ftp {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReceiveBuffer = 256 * 1024;
constexpr std::size_t kWriteChunk = 64 * 1024;
// RETR over TLS (no sendfile there): read this much at a time, and send it
// a TLS record (16 KiB) at a time, each a sign of progress to the stall
// watch, as each sendfile call is on a plain connection.
constexpr std::size_t kTlsReadChunk = 256 * 1024;
constexpr std::size_t kTlsRecord = 16 * 1024;
// sendfile on loopback can go on without ever blocking: let the loop's
// other sessions run after this many bytes.
constexpr std::uint64_t kYieldEvery = 8 << 20;

// Strips ls options ("-la") clients put before the path.
std::string without_options(std::string arg) {
  while (arg.starts_with('-')) {
    auto space = arg.find(' ');
    arg = space == std::string::npos ? std::string() : arg.substr(space + 1);
  }
  return arg;
}

awaitable<bool> write_text(net::Stream& stream, std::string text, Clock::time_point& progress,
                           std::uint64_t& sent) {
  std::string_view rest = text;
  while (!rest.empty()) {
    auto chunk = rest.substr(0, kWriteChunk);
    std::span<const char> piece(chunk.data(), chunk.size());
    error_code ec;
    co_await stream.write(std::span(&piece, 1), ec);
    if (ec) co_return false;
    sent += chunk.size();
    progress = Clock::now();
    rest.remove_prefix(chunk.size());
  }
  co_return true;
}

// Plain data connections: sendfile(2), from the page cache straight out.
awaitable<bool> send_file(net::StreamSocket& socket, int fd, std::uint64_t offset, std::uint64_t length,
                          std::uint64_t& sent, Clock::time_point& progress) {
  error_code ec;
  socket.native_non_blocking(true, ec);
  if (ec) co_return false;
  std::uint64_t since_yield = 0;
  while (sent < length) {
    auto at = static_cast<off_t>(offset + sent);
    auto chunk = static_cast<std::size_t>(std::min<std::uint64_t>(length - sent, 1 << 30));
    ssize_t n = ::sendfile(socket.native_handle(), fd, &at, chunk);
    if (n > 0) {
      sent += static_cast<std::uint64_t>(n);
      since_yield += static_cast<std::uint64_t>(n);
      progress = Clock::now();
      if (since_yield >= kYieldEvery) {
        since_yield = 0;
        co_await asio::post(socket.get_executor(), asio::use_awaitable);
      }
    } else if (n == 0) {
      break;  // the file shrank under us
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      since_yield = 0;
      auto [wait_ec] = co_await socket.async_wait(net::StreamSocket::wait_write, use_tuple);
      if (wait_ec) co_return false;
    } else if (errno != EINTR) {
      co_return false;
    }
  }
  co_return sent == length;
}

// A transfer's buffer, mapped for it and unmapped when it ends. From
// malloc, the buffers of 200 uploads at once (50 MiB) stayed in the process
// after they ended: once a freed chunk of this size raises glibc's mmap
// threshold, the next ones come from the arenas, which keep them.
class TransferBuffer {
 public:
  explicit TransferBuffer(std::size_t size) : size_(size) {
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    data_ = static_cast<char*>(p);
  }
  ~TransferBuffer() { ::munmap(data_, size_); }
  TransferBuffer(const TransferBuffer&) = delete;
  TransferBuffer& operator=(const TransferBuffer&) = delete;
  char* get() const { return data_; }

 private:
  std::size_t size_;
  char* data_;
};

// TLS data connections: read, then encrypt and send.
awaitable<bool> send_file_tls(net::Stream& stream, int fd, std::uint64_t offset, std::uint64_t length,
                              std::uint64_t& sent, Clock::time_point& progress) {
  TransferBuffer buffer(kTlsReadChunk);
  while (sent < length) {
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length - sent, kTlsReadChunk));
    auto n = ::pread(fd, buffer.get(), want, static_cast<off_t>(offset + sent));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) co_return false;
    if (n == 0) break;  // the file shrank under us
    for (std::size_t done = 0; done < static_cast<std::size_t>(n);) {
      std::span<const char> piece(buffer.get() + done,
                                  std::min(kTlsRecord, static_cast<std::size_t>(n) - done));
      error_code ec;
      co_await stream.write(std::span(&piece, 1), ec);
      if (ec) co_return false;
      done += piece.size();
      sent += piece.size();
      progress = Clock::now();
    }
  }
  co_return sent == length;
}

// Until the client ends the stream. On TLS, an end without close_notify
// (`truncated`) is accepted as vsftpd does by default: most clients send
// one, but not all, and the upload can be resumed if it was really cut.
awaitable<bool> receive_into(net::Stream& stream, int fd, std::uint64_t offset, std::uint64_t& received,
                             Clock::time_point& progress, std::string& failure, bool& truncated) {
  TransferBuffer buffer(kReceiveBuffer);
  for (;;) {
    error_code ec;
    auto n = co_await stream.read_some(std::span(buffer.get(), kReceiveBuffer), ec);
    if (ec == asio::error::eof) co_return true;
    if (is_truncation(ec)) {
      truncated = true;
      co_return true;
    }
    if (ec) co_return false;
    std::size_t done = 0;
    while (done < n) {
      auto w = ::pwrite(fd, buffer.get() + done, n - done, static_cast<off_t>(offset + received + done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        failure = std::string("Could not write the file: ") + std::strerror(errno) + ".";
        co_return false;
      }
      done += static_cast<std::size_t>(w);
    }
    received += n;
    progress = Clock::now();
  }
}

}  // namespace

// ----------------------------------------------------------------- listings

awaitable<void> Session::send_listing(std::string arg, char style) {
  if (data_needs_protection()) co_return;
  if (auto why = denied(kList, "list")) co_return say(550, *why);
  auto path = codec::ftp::resolve_path(cwd_, without_options(std::move(arg)));
  if (!path) co_return say(553, "File name not allowed.");
  std::error_code ec;
  auto dir = jail_->open_directory(*path, ec);
  std::vector<codec::ftp::FileFacts> entries;
  if (dir) {
    if (is_incoming_directory(dir.get()))
      co_return say(550, "Permission denied: the incoming folder is upload-only.");
    entries = Jail::list(dir.get(), ec);
    if (ec) co_return say(550, "Cannot list: " + describe_error(ec) + ".");
  } else {
    if (style == 'M') co_return say(501, "MLSD needs a directory: " + describe_error(ec) + ".");
    ec.clear();
    auto st = jail_->stat_entry(*path, ec);
    if (ec) co_return say(550, "Cannot list: " + describe_error(ec) + ".");
    entries.push_back(Jail::facts_of(std::string(codec::ftp::leaf_name(*path)), st));
  }
  std::string text;
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  for (const auto& facts : entries) {
    if (style == 'L')
      text += codec::ftp::format_list_line(facts, now);
    else if (style == 'M')
      text += codec::ftp::format_facts(facts, perm_facts(facts));
    else
      text += codec::ftp::one_line(facts.name);
    text += "\r\n";
  }
  auto data = co_await open_data("Here comes the directory listing.");
  if (!data) co_return;
  std::uint64_t sent = 0;
  auto outcome = co_await supervise(write_text(*data, std::move(text), progress_, sent));
  co_await close_data(*data, outcome);
  finish_transfer(outcome, "Directory send OK.");
}

awaitable<void> Session::cmd_list(std::string arg) {
  co_await send_listing(std::move(arg), 'L');
}

awaitable<void> Session::cmd_nlst(std::string arg) {
  co_await send_listing(std::move(arg), 'N');
}

awaitable<void> Session::cmd_mlsd(std::string arg) {
  co_await send_listing(std::move(arg), 'M');
}

// ----------------------------------------------------------------- files

awaitable<void> Session::cmd_retr(std::string arg) {
  std::uint64_t offset = std::exchange(restart_, 0);
  if (data_needs_protection()) co_return;
  auto path = path_or_reply(arg);
  if (!path) co_return;
  if (auto why = denied(kRead, "download")) co_return say(550, *why);
  if (in_incoming(*path)) co_return say(550, "Permission denied: the incoming folder is upload-only.");
  std::error_code ec;
  auto file = jail_->open_read(*path, ec);
  if (!file) co_return say(550, "Failed to open file: " + describe_error(ec) + ".");
  struct stat st {};
  ::fstat(file.get(), &st);
  // As vsftpd: anonymous gets only world-readable files, so an upload (made
  // 0600) can never be fetched back through another name for it.
  if (account_->kind == AccountKind::anonymous && !(st.st_mode & S_IROTH))
    co_return say(550, "Permission denied: the file is not world-readable.");
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (offset > size) co_return say(554, "Restart offset is beyond the end of the file.");
  auto data = co_await open_data(std::string("Opening ") + (binary_ ? "BINARY" : "ASCII") +
                                 " mode data connection for " + codec::ftp::one_line(*path) + " (" +
                                 std::to_string(size) + " bytes).");
  if (!data) co_return;
  auto started = Clock::now();
  std::uint64_t sent = 0;
  // Built before the co_await: GCC 12 destroys a temporary awaitable made
  // inside a co_await expression's conditional twice.
  std::optional<awaitable<bool>> op;
  if (data->is_tls())
    op.emplace(send_file_tls(*data, file.get(), offset, size - offset, sent, progress_));
  else
    op.emplace(send_file(data->socket(), file.get(), offset, size - offset, sent, progress_));
  auto outcome = co_await supervise(std::move(*op));
  co_await close_data(*data, outcome);
  log_transfer(*path, 'o', sent, started, outcome == Outcome::done);
  finish_transfer(outcome, "Transfer complete.");
}

awaitable<void> Session::cmd_stor(std::string arg) {
  co_await receive_file(std::move(arg), 'S');
}

awaitable<void> Session::cmd_appe(std::string arg) {
  co_await receive_file(std::move(arg), 'A');
}

awaitable<void> Session::cmd_stou(std::string arg) {
  co_await receive_file(std::move(arg), 'U');
}

awaitable<void> Session::receive_file(std::string arg, char how) {
  std::uint64_t offset = std::exchange(restart_, 0);
  if (data_needs_protection()) co_return;
  if (how == 'U') {
    // STOU: a fresh name in the current directory (or beside the one given).
    thread_local std::mt19937 random{std::random_device{}()};
    auto base = arg.empty() ? std::string("upload") : std::string(codec::ftp::leaf_name(arg));
    arg = (arg.find('/') == std::string::npos ? "" : codec::ftp::parent_path(arg) + "/") + base + "." +
          std::to_string(random() % 1000000);
  }
  auto path = path_or_reply(arg);
  if (!path) co_return;
  std::error_code ec;
  jail_->stat_entry(*path, ec);
  bool exists = !ec;
  int flags = 0;
  mode_t mode = 0644;
  if (account_->kind == AccountKind::anonymous) {
    // Anonymous may only add new files to the incoming folder, unreadable
    // to other anonymous users (0600: see cmd_retr).
    if (!in_incoming(*path))
      co_return say(550, account_->incoming.empty()
                             ? "Permission denied: anonymous accounts may not upload."
                             : "Permission denied: anonymous uploads go to " + account_->incoming + ".");
    if (exists || offset > 0 || how == 'A')
      co_return say(550, "Permission denied: anonymous uploads may not replace or extend files.");
    flags = O_EXCL;
    mode = 0600;
  } else if (how == 'A') {
    if (auto why = denied(kAppend, "append to files")) co_return say(550, *why);
    if (!exists) {
      if (auto why = denied(kWrite, "upload")) co_return say(550, *why);
    }
    flags = O_APPEND;
  } else if (offset > 0) {
    if (auto why = denied(kAppend, "resume uploads")) co_return say(550, *why);
  } else {
    if (auto why = denied(kWrite, "upload")) co_return say(550, *why);
    if (exists) {
      if (auto why = denied(kDelete, "overwrite existing files")) co_return say(550, *why);
    }
    flags = how == 'U' ? O_EXCL : O_TRUNC;
  }
  ec.clear();
  auto file = jail_->open_write(*path, flags, mode, ec);
  if (!file) co_return say(553, "Could not create file: " + describe_error(ec) + ".");
  if (how == 'A') {
    struct stat st {};
    ::fstat(file.get(), &st);
    offset = static_cast<std::uint64_t>(st.st_size);
  } else if (offset > 0) {
    struct stat st {};
    ::fstat(file.get(), &st);
    if (offset > static_cast<std::uint64_t>(st.st_size))
      co_return say(554, "Restart offset is beyond the end of the file.");
    ::ftruncate(file.get(), static_cast<off_t>(offset));
  }
  std::string mark = how == 'U' ? "FILE: " + std::string(codec::ftp::leaf_name(*path)) : "Ok to send data.";
  auto data = co_await open_data(mark, true);
  if (!data) co_return;
  auto started = Clock::now();
  std::uint64_t received = 0;
  bool truncated = false;
  auto outcome = co_await supervise(
      receive_into(*data, file.get(), offset, received, progress_, transfer_failure_, truncated));
  co_await close_data(*data, outcome, !truncated);
  if (truncated)
    spdlog::info(
        "{} event=tls_truncated path=\"{}\" bytes={} note=\"upload ended without close_notify; kept\"",
        log_prefix(), codec::ftp::one_line(*path), received);
  log_transfer(*path, 'i', received, started, outcome == Outcome::done);
  if (how == 'U')
    finish_transfer(outcome, "Transfer complete: " + std::string(codec::ftp::leaf_name(*path)) + ".");
  else
    finish_transfer(outcome, "Transfer complete.");
}

}  // namespace sockit::ftp
