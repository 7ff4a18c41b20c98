// One FTP control connection (RFC 959 and extensions, docs/ftp.md): login,
// then commands until QUIT, a timeout or the peer leaves. The commands live
// in five files: session.cpp (the loop, login, small commands),
// session_files.cpp (names and directories), session_data.cpp (data
// connections), session_transfer.cpp (transfers) and session_tls.cpp
// (FTPS: AUTH PBSZ PROT CCC and TLS on data connections).
#pragma once

#include "codec/ftp/address.hpp"
#include "codec/ftp/command.hpp"
#include "net/stream.hpp"
#include "net/tls.hpp"
#include "services/exec/token.hpp"
#include "services/ftp/accounts.hpp"
#include "services/ftp/data_channel.hpp"
#include "services/ftp/ftp_config.hpp"
#include "services/ftp/jail.hpp"
#include "services/ftp/xferlog.hpp"
#include "services/service.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

namespace sockit::ftp {

// What every session of one service instance shares.
struct Shared {
  FtpConfig config;
  AccountBook accounts;
  std::string log_name;  // "ftp.main"
  exec::AuthThrottle throttle;
  std::unique_ptr<TransferLog> xferlog;
  services::Counters counters;
  std::shared_ptr<net::TlsContext> tls;  // FTPS offered when set; one context for control and data
  // argon2id costs ~50 ms and 64 MiB: it runs here, never on a loop, so a
  // login does not stall the other sessions of its loop.
  boost::asio::thread_pool hashing{2};

  Shared(FtpConfig c, AccountBook book)
      : config(std::move(c)), accounts(std::move(book)), throttle(config.max_ip_failures, config.lockout) {}
};

class Session {
 public:
  Session(std::shared_ptr<Shared> shared, net::StreamSocket socket, std::string peer);
  boost::asio::awaitable<void> run();

 private:
  using Clock = std::chrono::steady_clock;
  using Handler = boost::asio::awaitable<void> (Session::*)(std::string arg);
  struct CommandInfo {
    Handler handler;
    bool needs_login;
  };
  static const CommandInfo* find_command(const std::string& verb);

  // Control connection.
  // Replies are queued (say) and written by flush(), which the command loop
  // calls after each command: no coroutine call carries a built string
  // (GCC 12 destroys some temporaries of a co_await expression twice).
  void say(int code, std::string_view text);
  void say_raw(std::string_view text);
  boost::asio::awaitable<void> flush();
  boost::asio::awaitable<std::optional<codec::ftp::Command>> next_command();
  boost::asio::awaitable<std::size_t> read_control();
  std::string log_prefix() const;

  // Login and session commands (session.cpp).
  boost::asio::awaitable<void> cmd_user(std::string arg);
  boost::asio::awaitable<void> cmd_pass(std::string arg);
  boost::asio::awaitable<bool> check_password(std::string user, std::string password);
  boost::asio::awaitable<void> cmd_quit(std::string arg);
  boost::asio::awaitable<void> cmd_noop(std::string arg);
  boost::asio::awaitable<void> cmd_syst(std::string arg);
  boost::asio::awaitable<void> cmd_feat(std::string arg);
  boost::asio::awaitable<void> cmd_opts(std::string arg);
  boost::asio::awaitable<void> cmd_help(std::string arg);
  boost::asio::awaitable<void> cmd_type(std::string arg);
  boost::asio::awaitable<void> cmd_mode(std::string arg);
  boost::asio::awaitable<void> cmd_stru(std::string arg);
  boost::asio::awaitable<void> cmd_stat(std::string arg);
  boost::asio::awaitable<void> cmd_not_implemented(std::string arg);

  // FTPS (session_tls.cpp).
  boost::asio::awaitable<void> cmd_auth(std::string arg);
  boost::asio::awaitable<void> cmd_pbsz(std::string arg);
  boost::asio::awaitable<void> cmd_prot(std::string arg);
  boost::asio::awaitable<void> cmd_ccc(std::string arg);
  // Under --require-tls, before AUTH: true after a 530 saying why.
  bool login_needs_tls(bool anonymous);
  // Under --require-tls without PROT P: true after a 521 saying why.
  bool data_needs_protection();
  // PROT P: the TLS handshake on a new data connection, which must resume
  // this control connection's session; false after a 522 saying why.
  boost::asio::awaitable<bool> secure_data(net::Stream& data, bool upload);
  std::chrono::milliseconds tls_limit() const;
  // After QUIT: close_notify both ways, bounded by tls_timeout.
  boost::asio::awaitable<void> end_control_tls();
  std::string tls_status();

  // Names and directories (session_files.cpp).
  boost::asio::awaitable<void> cmd_pwd(std::string arg);
  boost::asio::awaitable<void> cmd_cwd(std::string arg);
  boost::asio::awaitable<void> cmd_cdup(std::string arg);
  boost::asio::awaitable<void> cmd_mkd(std::string arg);
  boost::asio::awaitable<void> cmd_rmd(std::string arg);
  boost::asio::awaitable<void> cmd_dele(std::string arg);
  boost::asio::awaitable<void> cmd_rnfr(std::string arg);
  boost::asio::awaitable<void> cmd_rnto(std::string arg);
  boost::asio::awaitable<void> cmd_size(std::string arg);
  boost::asio::awaitable<void> cmd_mdtm(std::string arg);
  boost::asio::awaitable<void> cmd_mlst(std::string arg);

  // Data connections and transfers (session_transfer.cpp).
  boost::asio::awaitable<void> cmd_pasv(std::string arg);
  boost::asio::awaitable<void> cmd_epsv(std::string arg);
  boost::asio::awaitable<void> cmd_port(std::string arg);
  boost::asio::awaitable<void> cmd_eprt(std::string arg);
  boost::asio::awaitable<void> cmd_rest(std::string arg);
  boost::asio::awaitable<void> cmd_abor(std::string arg);
  boost::asio::awaitable<void> cmd_list(std::string arg);
  boost::asio::awaitable<void> cmd_nlst(std::string arg);
  boost::asio::awaitable<void> cmd_mlsd(std::string arg);
  boost::asio::awaitable<void> cmd_retr(std::string arg);
  boost::asio::awaitable<void> cmd_stor(std::string arg);
  boost::asio::awaitable<void> cmd_appe(std::string arg);
  boost::asio::awaitable<void> cmd_stou(std::string arg);

  // Helpers shared by the command files.
  // The normalised path for `arg`, or nothing after a 501/553 reply.
  std::optional<std::string> path_or_reply(const std::string& arg);
  // Empty when the account has `permission`, else the reason for a 550.
  std::optional<std::string> denied(Permission permission, const char* action) const;
  bool in_incoming(const std::string& path) const;
  bool is_incoming_directory(int directory_fd) const;
  std::string perm_facts(const codec::ftp::FileFacts& facts) const;
  void set_port_target(const codec::ftp::HostPort& target, std::string& why);
  boost::asio::awaitable<void> send_listing(std::string arg, char style);
  boost::asio::awaitable<void> receive_file(std::string arg, char how);
  enum class Outcome { done, failed, stalled, aborted, control_lost };
  // Runs `op` (which moves the data) while watching for a stall and for ABOR
  // on the control connection.
  boost::asio::awaitable<Outcome> supervise(boost::asio::awaitable<bool> op);
  boost::asio::awaitable<void> stall_watch();
  boost::asio::awaitable<bool> abort_watch();
  // The data connection for a transfer (TLS under PROT P), after the 150
  // mark; nothing after a 425/522 reply.
  boost::asio::awaitable<std::optional<net::Stream>> open_data(std::string mark, bool upload = false);
  // Ends a data connection: after a complete transfer on TLS (that the
  // peer did not cut short of its close_notify), close_notify both ways,
  // bounded by tls_timeout; then FIN and close.
  boost::asio::awaitable<void> close_data(net::Stream& data, Outcome outcome, bool tls_intact = true);
  void finish_transfer(Outcome outcome, std::string_view done_text);
  void log_transfer(const std::string& path, char direction, std::uint64_t bytes, Clock::time_point started,
                    bool complete);

  std::shared_ptr<Shared> shared_;
  net::Stream control_;
  std::string peer_;  // "1.2.3.4:5"
  std::string ip_;    // "1.2.3.4"
  boost::asio::ip::address peer_address_;
  boost::asio::ip::address local_address_;
  codec::ftp::CommandReader reader_;
  std::deque<codec::ftp::Command> pending_;  // read while a transfer ran
  std::unique_ptr<char[]> read_buffer_;
  boost::system::error_code control_ec_;
  const char* close_reason_ = "closed";
  bool closing_ = false;
  bool closing_write_failed_ = false;
  std::string outbox_;  // replies not yet written
  Clock::time_point login_deadline_;

  // Login state.
  std::optional<std::string> user_;
  std::optional<Account> account_;
  std::unique_ptr<Jail> jail_;
  unsigned login_failures_ = 0;
  // For the incoming folder of anonymous: its device and inode.
  std::optional<std::pair<dev_t, ino_t>> incoming_id_;

  // Protocol state.
  std::string cwd_ = "/";
  bool binary_ = false;  // TYPE A until the client says I (RFC 959); bytes go as they are either way
  bool epsv_all_ = false;
  std::uint64_t restart_ = 0;
  std::optional<std::string> rename_from_;
  DataChannel data_;
  Clock::time_point progress_;    // last byte moved on the data connection
  std::string transfer_failure_;  // why the last transfer failed on our side (disk full ...)

  // FTPS state.
  bool control_tls_ = false;
  bool pbsz_ = false;          // PBSZ seen (PROT needs it first)
  bool protect_data_ = false;  // PROT P
  std::string tls_tag_;        // the control connection's TLS session tag (ftps.hpp)
};

}  // namespace sockit::ftp
