// The shell's transfers: get/reget, put/reput/append, and mget/mput with
// globs (mget matches the remote listing, mput the local files). A download
// goes to a part file renamed into place when complete (the part is what
// 'get -c' resumes), as `sockit get` does.
#include "services/ftp_client/ftp_shell_impl.hpp"

#include "codec/ftp/remote_listing.hpp"
#include "services/http/fetch_types.hpp"
#include "services/http/output.hpp"
#include "services/transfer/transfer_session.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>

namespace sockit::ftp_client {
namespace asio = boost::asio;
using asio::awaitable;

namespace {

using Clock = std::chrono::steady_clock;

bool has_glob(std::string_view text) {
  return text.find_first_of("*?[") != std::string_view::npos;
}

std::string join_remote(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

// A local name from a remote path: its last part, which must be a name.
std::string local_name_for(const std::string& remote) {
  std::string name = remote_base_name(remote);
  if (name.empty() || name == "." || name == ".." || name == "/")
    throw ShellFailure("get " + remote + ": give a local name (get REMOTE LOCAL)", 2);
  return name;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// The -c flag in front of the operands.
bool take_resume_flag(std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "-c") {
    args.erase(args.begin());
    return true;
  }
  return false;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

void Shell::summary(const std::string& name, std::uint64_t bytes, double seconds, bool upload) const {
  if (!options_.interactive) return;
  double rate = seconds > 0 ? static_cast<double>(bytes) / seconds / (1024 * 1024) : 0;
  fmt::print("{} {}: {} bytes in {:.2f} s ({:.1f} MiB/s)\n", upload ? "sent" : "received", name, bytes,
             seconds, rate);
}

awaitable<void> Shell::get(std::vector<std::string> args, bool resume) {
  resume = take_resume_flag(args) || resume;
  if (args.empty() || args.size() > 2) usage(resume ? "reget" : "get");
  std::string local = args.size() == 2 ? args[1] : local_name_for(args[0]);
  co_await get_file(args[0], local, resume);
}

awaitable<void> Shell::get_file(const std::string& remote, const std::string& local, bool resume) {
  auto& client = connected();
  co_await client.set_type(binary_);
  // SIZE counts bytes as stored: only a binary transfer must match it.
  std::optional<std::uint64_t> size;
  if (binary_) size = co_await client.size(remote);
  bool to_stdout = local == "-";
  std::unique_ptr<http::Output> output;
  try {
    output = to_stdout ? http::make_stream_output(STDOUT_FILENO) : http::make_file_output(local, resume);
  } catch (const http::FetchError& e) {
    throw ShellFailure(fmt::format("get {}: {}", remote, e.what()), 1);
  }
  std::uint64_t offset = resume ? output->have() : 0;
  if (size && offset > *size) offset = 0;  // longer than the file: start over
  auto progress = options_.make_progress && !to_stdout ? options_.make_progress(false) : nullptr;
  if (progress) progress->begin(1, size.value_or(0));
  std::uint64_t from = 0, received = 0;
  auto started_at = Clock::now();
  std::exception_ptr failure;
  try {
    auto started = [&](std::uint64_t at) {
      from = at;
      output->start(at, {});
      if (progress) progress->file_started(local, size.value_or(0), at);
    };
    auto sink = [&](std::string_view piece) {
      output->write(piece);
      received += piece.size();
      if (progress) progress->advanced(piece.size());
    };
    co_await client.retrieve(remote, offset, sink, started);
    if (size && from + received != *size)
      throw FtpError(FtpError::Kind::data,
                     fmt::format("get {}: {} of {} bytes arrived", remote, from + received, *size));
  } catch (...) {
    failure = std::current_exception();
  }
  if (progress) progress->end();
  if (failure) {
    bool keep = !to_stdout && output->have() > 0;
    output->abandon(keep);
    try {
      std::rethrow_exception(failure);
    } catch (const FtpError& e) {
      std::string what = e.what();
      if (!what.starts_with("get ")) what = "get " + remote + ": " + what;
      if (keep)
        what += fmt::format("; {} bytes kept in {}: 'get -c' resumes", output->have(), output->part_name());
      throw FtpError(e.kind, what, e.reply_code);
    }
  }
  output->complete();
  summary(remote, received, seconds_since(started_at), false);
}

awaitable<void> Shell::put(std::vector<std::string> args, bool resume, bool append) {
  resume = (!append && take_resume_flag(args)) || resume;
  if (args.empty() || args.size() > 2) usage(append ? "append" : resume ? "reput" : "put");
  std::string remote = args.size() == 2 ? args[1] : remote_base_name(args[0]);
  co_await put_file(args[0], remote, resume, append);
}

awaitable<void> Shell::put_file(const std::string& local, const std::string& remote, bool resume,
                                bool append) {
  auto& client = connected();
  Fd file;
  file.fd = ::open(local.c_str(), O_RDONLY | O_CLOEXEC);
  if (file.fd < 0) throw ShellFailure(fmt::format("put {}: {}", local, std::strerror(errno)), 1);
  struct stat st {};
  if (::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw ShellFailure(fmt::format("put {}: not a regular file", local), 1);
  auto total = static_cast<std::uint64_t>(st.st_size);
  co_await client.set_type(binary_);
  std::uint64_t offset = 0;
  if (resume) {
    if (!binary_) throw ShellFailure("put -c needs binary mode (sizes differ in ascii)", 2);
    offset = (co_await client.size(remote)).value_or(0);
    if (offset > total)
      throw ShellFailure(
          fmt::format("put -c {}: the remote file is longer ({} bytes) than the local one ({})", local,
                      offset, total),
          1);
    if (offset > 0 && ::lseek(file.fd, static_cast<off_t>(offset), SEEK_SET) < 0)
      throw ShellFailure(fmt::format("put {}: {}", local, std::strerror(errno)), 1);
  }
  auto progress = options_.make_progress ? options_.make_progress(true) : nullptr;
  if (progress) {
    progress->begin(1, total);
    progress->file_started(remote, total, offset);
  }
  auto source = [&](std::span<char> into) -> std::size_t {
    for (;;) {
      ssize_t n = ::read(file.fd, into.data(), into.size());
      if (n >= 0) {
        if (progress) progress->advanced(static_cast<std::uint64_t>(n));
        return static_cast<std::size_t>(n);
      }
      if (errno != EINTR)
        throw FtpError(FtpError::Kind::local, fmt::format("put {}: {}", local, std::strerror(errno)));
    }
  };
  auto started_at = Clock::now();
  std::exception_ptr failure;
  std::uint64_t sent = 0;
  try {
    sent = co_await client.store(remote, offset, append, source);
  } catch (...) {
    failure = std::current_exception();
  }
  if (progress) progress->end();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const FtpError& e) {
      std::string what = e.what();
      if (!what.starts_with("put ")) what = "put " + local + ": " + what;
      throw FtpError(e.kind, what, e.reply_code);
    }
  }
  summary(remote, sent, seconds_since(started_at), true);
}

awaitable<void> Shell::mget(const std::vector<std::string>& patterns) {
  auto& client = connected();
  std::vector<std::string> failures;
  std::size_t done = 0;
  for (const auto& pattern : patterns) {
    auto slash = pattern.rfind('/');
    std::string dir = slash == std::string::npos ? "" : pattern.substr(0, slash + 1);
    std::string base = slash == std::string::npos ? pattern : pattern.substr(slash + 1);
    std::vector<std::string> names;
    if (!has_glob(base)) {
      names.push_back(base);
    } else {
      // MLSD when the server has it (exact), else LIST in the ls -l form,
      // else bare NLST names.
      using codec::ftp::ListingFormat;
      using Kind = codec::ftp::RemoteEntry::Kind;
      std::vector<codec::ftp::RemoteEntry> entries;
      if ((co_await client.features()).count("MLST")) {
        entries = codec::ftp::parse_listing(co_await client.list("MLSD", dir), ListingFormat::mlsd);
      } else {
        auto text = co_await client.list("LIST", dir);
        entries = codec::ftp::parse_listing(text, ListingFormat::list);
        if (entries.empty() && !text.empty())
          entries = codec::ftp::parse_listing(co_await client.list("NLST", dir), ListingFormat::nlst);
      }
      for (const auto& entry : entries) {
        if (entry.kind == Kind::directory || entry.kind == Kind::other) continue;
        if (::fnmatch(base.c_str(), entry.name.c_str(), FNM_PERIOD) == 0) names.push_back(entry.name);
      }
      if (names.empty()) throw ShellFailure("mget " + pattern + ": no remote file matches", 1);
    }
    for (const auto& name : names) {
      auto failure = co_await [&]() -> awaitable<std::optional<std::string>> {
        try {
          co_await get_file(join_remote(dir, name), local_name_for(name), false);
        } catch (const ShellFailure& e) {
          co_return std::string(e.what());
        } catch (const FtpError& e) {
          if (e.kind == FtpError::Kind::lost) throw;
          co_return std::string(e.what());
        } catch (const http::FetchError& e) {
          co_return std::string(e.what());
        }
        co_return std::nullopt;
      }();
      if (failure) {
        failures.push_back(*failure);
        if (options_.interactive) fmt::print(stderr, "sockit: {}\n", *failure);
      } else {
        ++done;
      }
    }
  }
  if (!failures.empty())
    throw ShellFailure(fmt::format("mget: {} of {} files failed (first: {})", failures.size(),
                                   failures.size() + done, failures.front()),
                       1);
}

awaitable<void> Shell::mput(const std::vector<std::string>& patterns) {
  connected();
  std::vector<std::string> files;
  for (const auto& pattern : patterns) {
    glob_t found{};
    int rc = ::glob(pattern.c_str(), 0, nullptr, &found);
    std::size_t before = files.size();
    if (rc == 0) {
      for (std::size_t i = 0; i < found.gl_pathc; ++i) {
        struct stat st {};
        if (::stat(found.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode)) files.emplace_back(found.gl_pathv[i]);
      }
    }
    ::globfree(&found);
    if (files.size() == before) throw ShellFailure("mput " + pattern + ": no local file matches", 1);
  }
  std::vector<std::string> failures;
  for (const auto& file : files) {
    auto failure = co_await [&]() -> awaitable<std::optional<std::string>> {
      try {
        co_await put_file(file, remote_base_name(file), false, false);
      } catch (const ShellFailure& e) {
        co_return std::string(e.what());
      } catch (const FtpError& e) {
        if (e.kind == FtpError::Kind::lost) throw;
        co_return std::string(e.what());
      }
      co_return std::nullopt;
    }();
    if (failure) {
      failures.push_back(*failure);
      if (options_.interactive) fmt::print(stderr, "sockit: {}\n", *failure);
    }
  }
  if (!failures.empty())
    throw ShellFailure(fmt::format("mput: {} of {} files failed (first: {})", failures.size(), files.size(),
                                   failures.front()),
                       1);
}

}  // namespace sockit::ftp_client
