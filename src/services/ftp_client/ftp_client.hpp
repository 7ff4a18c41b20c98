// FtpClient: the one FTP client of the code base (`sockit ftp` and
// `sockit get ftp://`): a control connection, its login, and data
// connections for listings and transfers.
//
// Security, as curl does it: a passive data connection always goes to the
// address the control connection is connected to, never to the address a
// PASV reply names (a hostile server cannot aim us elsewhere: FTP bounce);
// an active one is accepted only from the control peer's address. FTPS is
// explicit (AUTH TLS, then PBSZ 0 and PROT P) or implicit (TLS from the
// first byte, port 990); every data connection resumes the control
// connection's TLS session, as vsftpd (require_ssl_reuse) and RFC 4217
// servers ask, and the certificate is checked like `sockit get` does.
#pragma once

#include "codec/ftp/client_reply.hpp"
#include "net/stream.hpp"
#include "net/tls.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sockit::ftp_client {

using Reply = codec::ftp::ClientReply;

enum class Security {
  none,
  explicit_tls,  // AUTH TLS on the plain connection (ftp:// with --tls / --ssl-reqd)
  implicit_tls,  // TLS from the first byte (ftps://, port 990)
};

struct ClientOptions {
  std::string host;
  std::uint16_t port = 21;
  Security security = Security::none;
  // Required unless security is none (make_web_client_tls: --cacert, -k);
  // it must outlive the client.
  net::TlsContext* tls = nullptr;
  bool passive = true;  // false: EPRT/PORT, the server connects to us
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  // The longest wait for a reply, or for a byte on a data connection.
  std::chrono::milliseconds stall_timeout{std::chrono::seconds(60)};
  // Each timed step's limit goes through this (sockit get's --max-time
  // shortens it, or throws when the run is out of time).
  std::function<std::chrono::milliseconds(std::chrono::milliseconds)> bound;
  // Protocol lines as they pass ("> USER bob", "< 331 ..."); PASS is masked.
  std::function<void(const std::string&)> trace;
};

// One line for humans, what kind of failure it was (for exit codes), and
// the reply code when a reply refused something.
struct FtpError : std::runtime_error {
  enum class Kind {
    resolve,      // the host name does not resolve
    connect,      // the control or a data connection could not be made
    timeout,      // no reply or no data for the stall timeout
    tls,          // a TLS handshake failed (or AUTH TLS was refused)
    certificate,  // the server's certificate is not trusted or does not match
    protocol,     // the server sent something that is not FTP
    lost,         // the control connection ended
    refused,      // a reply said no (reply_code tells which)
    data,         // a data connection ended early
    local,        // our side: a file that cannot be read or written
  };
  FtpError(Kind k, const std::string& what, int code = 0)
      : std::runtime_error(what), kind(k), reply_code(code) {}
  Kind kind;
  int reply_code;
  // Worth trying again: a connection that failed or ended, a time-out, a 4xx.
  bool transient() const;
};

// A listing or transfer's data, piece by piece (the pieces are only valid
// during the call).
using Sink = std::function<void(std::string_view)>;
// Fills the span and returns how many bytes it put there; 0 at the end.
using Source = std::function<std::size_t(std::span<char>)>;

class FtpClient {
 public:
  explicit FtpClient(ClientOptions options);
  ~FtpClient();
  FtpClient(const FtpClient&) = delete;
  FtpClient& operator=(const FtpClient&) = delete;

  // The control connection: TCP, TLS (implicit), the 220 greeting, then
  // AUTH TLS + PBSZ 0 + PROT P (explicit). Returns the greeting.
  boost::asio::awaitable<Reply> connect();
  // USER, then PASS when asked for one. Throws FtpError (refused) when the
  // login is refused.
  boost::asio::awaitable<void> login(const std::string& user, const std::string& password);
  // QUIT (its reply is not waited for long) and the connection closed.
  boost::asio::awaitable<void> quit();
  bool connected() const { return control_ != nullptr; }
  // Whether the server is still there: false (and the connection dropped)
  // once it closed the control connection, as servers do to an idle
  // session (421), even before anything is sent.
  bool check_connection();
  // "host:port" as given.
  std::string origin() const;
  bool secure() const { return secure_; }
  bool passive() const { return options_.passive; }
  void set_passive(bool passive) { options_.passive = passive; }
  const ClientOptions& options() const { return options_; }

  // Sends one command line and returns its final reply, whatever the code.
  boost::asio::awaitable<Reply> command(std::string line);
  // The same, throwing FtpError (refused) unless the code is `ok` or `also_ok`
  // ("what: 550 No such file").
  boost::asio::awaitable<Reply> require(std::string line, int ok, int also_ok, std::string what);

  boost::asio::awaitable<void> set_type(bool binary);  // TYPE I / TYPE A (sent only on a change)
  bool binary() const { return type_ == 'I'; }
  boost::asio::awaitable<std::string> pwd();
  boost::asio::awaitable<void> cwd(const std::string& path);
  boost::asio::awaitable<void> cdup();
  boost::asio::awaitable<void> mkdir(const std::string& path);
  boost::asio::awaitable<void> rmdir(const std::string& path);
  boost::asio::awaitable<void> remove(const std::string& path);
  boost::asio::awaitable<void> rename(const std::string& from, const std::string& to);
  // SIZE: nothing when the server does not say (502, or 550 for a
  // directory); throws only on a lost connection.
  boost::asio::awaitable<std::optional<std::uint64_t>> size(const std::string& path);
  // MDTM as seconds since the epoch (UTC); nothing when not known.
  boost::asio::awaitable<std::optional<std::int64_t>> modified(const std::string& path);
  // FEAT's feature lines, upper-cased first words ("EPSV", "MLST", "REST"),
  // asked once per connection.
  boost::asio::awaitable<std::set<std::string>> features();

  // `verb` is LIST, NLST or MLSD; `path` may be empty. The whole listing
  // (at most 64 MiB).
  boost::asio::awaitable<std::string> list(const std::string& verb, const std::string& path);
  // RETR `path` from `offset` (REST first when it is not 0) into `sink`.
  // `started(offset)` is called once the server agreed, with the offset it
  // accepted (0 when it refused REST). Returns the bytes that arrived.
  boost::asio::awaitable<std::uint64_t> retrieve(const std::string& path, std::uint64_t offset,
                                                 const Sink& sink,
                                                 const std::function<void(std::uint64_t)>& started = {});
  // STOR (or APPE with `append`; STOR after REST `offset` to resume) of
  // what `source` gives. Returns the bytes sent.
  boost::asio::awaitable<std::uint64_t> store(const std::string& path, std::uint64_t offset, bool append,
                                              const Source& source);

 private:
  boost::asio::awaitable<Reply> read_reply();
  boost::asio::awaitable<void> send_line(const std::string& line);
  boost::asio::awaitable<void> drain_pending();
  boost::asio::awaitable<void> start_tls_on_control();
  // The data connection for `command_line` (RETR x, LIST, STOR y), opened
  // passive or active, the 1xx reply read, TLS negotiated.
  // REST `rest` goes right before the command (servers forget it at any
  // other), and `accepted` says whether the server took it.
  boost::asio::awaitable<std::unique_ptr<net::Stream>> open_data(const std::string& command_line,
                                                                 std::uint64_t rest = 0,
                                                                 bool* accepted = nullptr);
  boost::asio::awaitable<net::StreamSocket> passive_socket();
  boost::asio::awaitable<void> tls_handshake(net::Stream& stream, bool data);
  // After the data is through: the final reply (226/250), else throws.
  boost::asio::awaitable<void> finish_transfer(const std::string& what);
  void fail_connection();
  std::chrono::milliseconds limit(std::chrono::milliseconds wanted) const;
  void trace(const std::string& line) const;

  ClientOptions options_;
  std::unique_ptr<net::Stream> control_;
  std::string peer_ip_;   // the control connection's peer: where passive data goes
  std::string local_ip_;  // our side of it: where active data is accepted
  codec::ftp::FtpReplyReader reader_;
  std::unique_ptr<char[]> buffer_;
  bool secure_ = false;
  bool epsv_failed_ = false;
  bool eprt_failed_ = false;
  char type_ = 0;  // 'I' or 'A' once set
  std::optional<std::set<std::string>> features_;
  // Final replies still owed by the server for a transfer that failed on
  // our side: read and dropped before the next command.
  int pending_replies_ = 0;
};

// "/a/b" -> "b"; "a" -> "a": a remote path's last part, for local names.
std::string remote_base_name(std::string_view path);

}  // namespace sockit::ftp_client
