// Inside the FTP shell: the Shell object both ftp_shell*.cpp files
// implement. Not for other users: they call run_ftp_script/run_ftp_shell.
#pragma once

#include "codec/ftp/ftp_url.hpp"
#include "services/ftp_client/ftp_shell.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sockit::ftp_client {

// A command that failed: one line, and the exit status it stands for
// (1 it failed, 2 it was not understood).
struct ShellFailure : std::runtime_error {
  ShellFailure(const std::string& what, int code) : std::runtime_error(what), status(code) {}
  int status;
};

class Shell {
 public:
  explicit Shell(const ShellOptions& options);
  ~Shell();

  // One command line. Throws ShellFailure, FtpError or another
  // std::exception (a local file that cannot be written).
  boost::asio::awaitable<void> run_line(const std::string& line);
  boost::asio::awaitable<void> open(const std::string& target, bool login = true);
  // Logs out if still connected.
  boost::asio::awaitable<void> leave();
  bool done() const { return done_; }

 private:
  boost::asio::awaitable<void> dispatch(const std::string& name, const std::vector<std::string>& args);
  boost::asio::awaitable<void> get(std::vector<std::string> args, bool resume);
  boost::asio::awaitable<void> put(std::vector<std::string> args, bool resume, bool append);
  boost::asio::awaitable<void> mget(const std::vector<std::string>& patterns);
  boost::asio::awaitable<void> mput(const std::vector<std::string>& patterns);
  boost::asio::awaitable<void> get_file(const std::string& remote, const std::string& local, bool resume);
  boost::asio::awaitable<void> put_file(const std::string& local, const std::string& remote, bool resume,
                                        bool append);
  boost::asio::awaitable<void> connect_to(const codec::ftp::FtpUrl& url);
  boost::asio::awaitable<void> log_in(const std::string& user, const std::string& password);
  // Connects and logs in again, back in the same directory, when the
  // server dropped the connection since the last command.
  boost::asio::awaitable<void> reconnect_if_dropped();
  boost::asio::awaitable<void> remember_directory();
  [[noreturn]] void usage(std::string_view name) const;
  FtpClient& connected();
  void close_now();
  void status() const;
  void say(const std::string& line) const;
  void summary(const std::string& name, std::uint64_t bytes, double seconds, bool upload) const;

  // What 'open' connected to, for connecting again after a drop.
  struct Session {
    std::string target;  // the URL or HOST[:PORT] given
    std::string user;    // empty until logged in
    std::string password;
    std::string cwd;  // the remote directory, once changed
  };

  ShellOptions options_;
  std::unique_ptr<FtpClient> client_;
  std::optional<Session> session_;
  std::shared_ptr<net::TlsContext> tls_;
  std::string user_;
  bool passive_;
  bool binary_ = true;
  bool verbose_;
  bool done_ = false;
};

}  // namespace sockit::ftp_client
