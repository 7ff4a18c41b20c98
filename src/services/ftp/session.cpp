#include "services/ftp/session.hpp"

#include "codec/ftp/reply.hpp"
#include "net/within.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <unordered_map>

namespace sockit::ftp {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;
using codec::ftp::Command;

namespace {

constexpr std::size_t kControlRead = 4096;

asio::ip::address address_of(const net::StreamEndpoint& endpoint) {
  asio::ip::tcp::endpoint tcp;
  if (endpoint.size() <= tcp.capacity()) {
    std::memcpy(tcp.data(), endpoint.data(), endpoint.size());
    tcp.resize(endpoint.size());
  }
  return tcp.address();
}

const std::unordered_map<std::string, int>& verbs_that_need_no_login() {
  // AUTH PBSZ PROT CCC come before USER in FTPS (RFC 4217).
  static const std::unordered_map<std::string, int> verbs{{"USER", 0}, {"PASS", 0}, {"QUIT", 0}, {"NOOP", 0},
                                                          {"FEAT", 0}, {"HELP", 0}, {"OPTS", 0}, {"AUTH", 0},
                                                          {"PBSZ", 0}, {"PROT", 0}, {"CCC", 0}};
  return verbs;
}

}  // namespace

const Session::CommandInfo* Session::find_command(const std::string& verb) {
  static const std::unordered_map<std::string, CommandInfo> commands = [] {
    std::unordered_map<std::string, Handler> handlers{
        {"USER", &Session::cmd_user},
        {"PASS", &Session::cmd_pass},
        {"QUIT", &Session::cmd_quit},
        {"NOOP", &Session::cmd_noop},
        {"SYST", &Session::cmd_syst},
        {"FEAT", &Session::cmd_feat},
        {"OPTS", &Session::cmd_opts},
        {"HELP", &Session::cmd_help},
        {"TYPE", &Session::cmd_type},
        {"MODE", &Session::cmd_mode},
        {"STRU", &Session::cmd_stru},
        {"STAT", &Session::cmd_stat},
        {"PWD", &Session::cmd_pwd},
        {"XPWD", &Session::cmd_pwd},
        {"CWD", &Session::cmd_cwd},
        {"XCWD", &Session::cmd_cwd},
        {"CDUP", &Session::cmd_cdup},
        {"XCUP", &Session::cmd_cdup},
        {"MKD", &Session::cmd_mkd},
        {"XMKD", &Session::cmd_mkd},
        {"RMD", &Session::cmd_rmd},
        {"XRMD", &Session::cmd_rmd},
        {"DELE", &Session::cmd_dele},
        {"RNFR", &Session::cmd_rnfr},
        {"RNTO", &Session::cmd_rnto},
        {"SIZE", &Session::cmd_size},
        {"MDTM", &Session::cmd_mdtm},
        {"MLST", &Session::cmd_mlst},
        {"PASV", &Session::cmd_pasv},
        {"EPSV", &Session::cmd_epsv},
        {"PORT", &Session::cmd_port},
        {"EPRT", &Session::cmd_eprt},
        {"REST", &Session::cmd_rest},
        {"ABOR", &Session::cmd_abor},
        {"LIST", &Session::cmd_list},
        {"NLST", &Session::cmd_nlst},
        {"MLSD", &Session::cmd_mlsd},
        {"RETR", &Session::cmd_retr},
        {"STOR", &Session::cmd_stor},
        {"APPE", &Session::cmd_appe},
        {"STOU", &Session::cmd_stou},
        {"ALLO", &Session::cmd_noop},
        {"ACCT", &Session::cmd_not_implemented},
        {"SMNT", &Session::cmd_not_implemented},
        {"REIN", &Session::cmd_not_implemented},
        {"SITE", &Session::cmd_not_implemented},
        {"AUTH", &Session::cmd_auth},
        {"PBSZ", &Session::cmd_pbsz},
        {"PROT", &Session::cmd_prot},
        {"CCC", &Session::cmd_ccc},
    };
    std::unordered_map<std::string, CommandInfo> out;
    for (auto& [verb, handler] : handlers)
      out.emplace(verb, CommandInfo{handler, !verbs_that_need_no_login().contains(verb)});
    return out;
  }();
  auto found = commands.find(verb);
  return found == commands.end() ? nullptr : &found->second;
}

Session::Session(std::shared_ptr<Shared> shared, net::StreamSocket socket, std::string peer)
    : shared_(std::move(shared)),
      control_(std::move(socket)),
      peer_(std::move(peer)),
      reader_(shared_->config.max_line),
      read_buffer_(std::make_unique<char[]>(kControlRead)),
      data_(control_.socket().get_executor()) {
  error_code ec;
  peer_address_ = unmapped(address_of(control_.socket().remote_endpoint(ec)));
  local_address_ = unmapped(address_of(control_.socket().local_endpoint(ec)));
  ip_ = peer_address_.to_string();
  // Python's ftplib sends ABOR's last byte as urgent data (MSG_OOB): keep it
  // in the stream so the command line is whole.
  int on = 1;
  ::setsockopt(control_.socket().native_handle(), SOL_SOCKET, SO_OOBINLINE, &on, sizeof on);
}

std::string Session::log_prefix() const {
  return "peer=" + peer_ + " service=" + shared_->log_name + (user_ && account_ ? " user=" + *user_ : "");
}

void Session::say_raw(std::string_view text) {
  outbox_ += text;
}

void Session::say(int code, std::string_view text) {
  outbox_ += codec::ftp::format_reply(code, text);
}

awaitable<void> Session::flush() {
  if (outbox_.empty() || closing_write_failed_) co_return;
  std::string text = std::move(outbox_);
  outbox_.clear();
  std::span<const char> piece(text.data(), text.size());
  error_code ec;
  co_await control_.write(std::span(&piece, 1), ec);
  if (ec) {
    closing_write_failed_ = true;
    closing_ = true;
    close_reason_ = "write_failed";
  }
}

awaitable<std::size_t> Session::read_control() {
  auto n = co_await control_.read_some(std::span(read_buffer_.get(), kControlRead), control_ec_);
  co_return n;
}

awaitable<std::optional<Command>> Session::next_command() {
  for (;;) {
    if (!pending_.empty()) {
      auto command = std::move(pending_.front());
      pending_.pop_front();
      co_return command;
    }
    if (auto command = reader_.next()) co_return command;
    auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(shared_->config.idle_timeout);
    if (!account_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(login_deadline_ - Clock::now());
      limit = std::min(limit, std::max(left, std::chrono::milliseconds(1)));
    }
    auto n = co_await net::within(limit, read_control());
    if (!n) {
      close_reason_ = account_ ? "idle_timeout" : "login_timeout";
      spdlog::info("{} event={}", log_prefix(), close_reason_);
      say(421, account_ ? "Timeout: no command for too long; closing." : "Timeout: log in sooner; closing.");
      co_await flush();
      co_return std::nullopt;
    }
    if (control_ec_ || *n == 0) {
      close_reason_ = control_ec_ == asio::error::eof ? "eof" : "read_failed";
      co_return std::nullopt;
    }
    services::Counters::add(shared_->counters.bytes_in, *n);
    if (reader_.feed({read_buffer_.get(), *n}) == codec::ftp::CommandReader::Status::too_long) {
      close_reason_ = "line_too_long";
      spdlog::info("{} event=refused reason=line_too_long limit={}", log_prefix(), shared_->config.max_line);
      say(500,
          "Command line too long (limit " + std::to_string(shared_->config.max_line) + " bytes); closing.");
      co_await flush();
      co_return std::nullopt;
    }
  }
}

awaitable<void> Session::run() {
  auto& counters = shared_->counters;
  services::Counters::add(counters.connections);
  services::Counters::add(counters.active);
  spdlog::info("{} event=connect", log_prefix());
  login_deadline_ = Clock::now() + shared_->config.login_timeout;
  if (shared_->throttle.locked_out(ip_)) {
    close_reason_ = "locked_out";
    spdlog::warn("{} event=refused reason=locked_out", log_prefix());
    say(421, "Too many failed logins from your address; try again later.");
    closing_ = true;
  } else {
    say(220, shared_->config.banner);
  }
  for (;;) {
    co_await flush();  // the answers to the last command
    if (closing_) break;
    auto command = co_await next_command();
    if (!command) break;
    if (command->verb.empty()) continue;  // a blank line: nothing to answer
    spdlog::debug("{} event=command verb={}", log_prefix(),
                  codec::ftp::one_line(command->verb.substr(0, 16)));
    const auto* info = find_command(command->verb);
    if (!info) {
      say(500, "Unknown command.");
      continue;
    }
    if (info->needs_login && !account_) {
      say(530, "Please log in with USER and PASS.");
      continue;
    }
    if (command->verb != "RNTO") {
      if (command->verb != "RNFR") rename_from_.reset();
    }
    bool transfer = command->verb == "RETR" || command->verb == "STOR" || command->verb == "APPE" ||
                    command->verb == "REST" || command->verb == "STOU";
    co_await (this->*(info->handler))(std::move(command->arg));
    if (!transfer) restart_ = 0;
  }
  data_.reset();
  if (control_tls_ && !closing_write_failed_ && std::string_view(close_reason_) == "quit")
    co_await end_control_tls();
  control_.close();
  counters.active.fetch_sub(1, std::memory_order_relaxed);
  spdlog::info("{} event=close reason={}", log_prefix(), close_reason_);
}

// ----------------------------------------------------------------- login

awaitable<void> Session::cmd_user(std::string arg) {
  if (account_) co_return say(530, "Already logged in; cannot change to another user.");
  if (login_needs_tls(is_anonymous_name(arg))) co_return;
  user_ = arg;
  // The same answer for every name, so no one can tell which exist.
  say(331, "Please specify the password.");
}

awaitable<bool> Session::check_password(std::string user, std::string password) {
  // Runs on the hashing pool; the answer is posted back to this session's
  // loop. (Not a lambda coroutine in co_spawn: GCC 12 freed its captures
  // twice.)
  auto initiation = [shared = shared_, user, password](auto handler) {
    asio::post(shared->hashing, [shared, user, password, handler = std::move(handler)]() mutable {
      auto account = shared->accounts.authenticate(user, password);
      auto executor = asio::get_associated_executor(handler);
      asio::post(executor, [handler = std::move(handler), account = std::move(account)]() mutable {
        std::move(handler)(std::move(account));
      });
    });
  };
  auto account = co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::optional<Account>)>(
      std::move(initiation), asio::use_awaitable);
  if (!account) co_return false;
  account_ = std::move(account);
  co_return true;
}

awaitable<void> Session::cmd_pass(std::string arg) {
  if (account_) co_return say(230, "Already logged in.");
  if (login_needs_tls(user_ && is_anonymous_name(*user_))) co_return;
  if (!user_) co_return say(503, "Log in with USER first.");
  std::string user = *user_;
  if (shared_->throttle.locked_out(ip_)) {
    close_reason_ = "locked_out";
    spdlog::warn("{} event=login_refused user={} reason=locked_out", log_prefix(),
                 codec::ftp::one_line(user));
    say(421, "Too many failed logins from your address; try again later.");
    closing_ = true;
    co_return;
  }
  bool ok = co_await check_password(user, arg);
  if (ok) {
    std::string failure;
    try {
      jail_ = std::make_unique<Jail>(account_->root);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!jail_) {
      spdlog::error("{} event=login_failed user={} error=\"{}\"", log_prefix(), user, failure);
      account_.reset();
      co_return say(530, "Login failed: the account's root is not available.");
    }
    if (!account_->incoming.empty()) {
      std::error_code ec;
      auto st = jail_->stat_target(account_->incoming, ec);
      if (!ec && S_ISDIR(st.st_mode)) incoming_id_ = std::pair(st.st_dev, st.st_ino);
    }
    if (account_->kind == AccountKind::anonymous) user_ = "anonymous";
    shared_->throttle.record_success(ip_);
    spdlog::info("{} event=login kind={}", log_prefix(), kind_name(account_->kind));
    co_return say(230, "Login successful.");
  }
  ++login_failures_;
  unsigned from_ip = shared_->throttle.record_failure(ip_);
  services::Counters::add(shared_->counters.errors);
  spdlog::warn("{} event=login_failed user={} failures={} ip_failures={}", log_prefix(),
               codec::ftp::one_line(user.substr(0, 64)), login_failures_, from_ip);
  user_.reset();
  asio::steady_timer delay(control_.socket().get_executor(), shared_->config.auth_delay);
  co_await delay.async_wait(asio::as_tuple(asio::use_awaitable));
  if (login_failures_ >= shared_->config.max_login_failures) {
    close_reason_ = "too_many_failures";
    say(530, "Login incorrect.");
    say(421, "Too many failed logins; closing.");
    closing_ = true;
    co_return;
  }
  say(530, "Login incorrect.");
}

// ----------------------------------------------------------------- small commands

awaitable<void> Session::cmd_quit(std::string) {
  close_reason_ = "quit";
  say(221, "Goodbye.");
  closing_ = true;
  co_return;
}

awaitable<void> Session::cmd_noop(std::string) {
  say(200, "NOOP ok.");
  co_return;
}

awaitable<void> Session::cmd_syst(std::string) {
  say(215, "UNIX Type: L8");
  co_return;
}

awaitable<void> Session::cmd_feat(std::string) {
  std::vector<std::string> features;
  if (shared_->tls) features = {"AUTH TLS", "PBSZ", "PROT"};
  for (const char* feature : {"EPRT", "EPSV", "MDTM", "MLST type*;size*;modify*;perm*;unix.mode*;", "PASV",
                              "REST STREAM", "SIZE", "TVFS", "UTF8"})
    features.emplace_back(feature);
  say_raw(codec::ftp::format_multiline(211, "Features:", features, "End"));
  co_return;
}

awaitable<void> Session::cmd_opts(std::string arg) {
  auto command = codec::ftp::parse_command_line(arg);
  if (command.verb == "UTF8") co_return say(200, "Always in UTF8 mode.");
  if (command.verb == "MLST") co_return say(200, "MLST OPTS type;size;modify;perm;unix.mode;");
  say(501, "Option not understood.");
}

awaitable<void> Session::cmd_help(std::string) {
  std::vector<std::string> lines{"ABOR ALLO APPE AUTH CCC  CDUP CWD  DELE EPRT EPSV FEAT HELP LIST",
                                 "MDTM MKD  MLSD MLST MODE NLST NOOP OPTS PASS PASV PBSZ PORT PROT",
                                 "PWD  QUIT REST RETR RMD  RNFR RNTO SIZE STAT STOR STOU STRU SYST",
                                 "TYPE USER XCUP XCWD XMKD XPWD XRMD"};
  say_raw(codec::ftp::format_multiline(214, "The following commands are recognized.", lines, "Help OK."));
  co_return;
}

awaitable<void> Session::cmd_type(std::string arg) {
  auto command = codec::ftp::parse_command_line(arg);
  if (command.verb == "I" || (command.verb == "L" && command.arg == "8")) {
    binary_ = true;
    co_return say(200, "Switching to Binary mode.");
  }
  if (command.verb == "A" && (command.arg.empty() || command.arg == "N" || command.arg == "n")) {
    binary_ = false;
    co_return say(200, "Switching to ASCII mode.");
  }
  say(504, "Only TYPE A and TYPE I are supported.");
}

awaitable<void> Session::cmd_mode(std::string arg) {
  if (arg == "S" || arg == "s") co_return say(200, "Mode set to S.");
  say(504, "Only MODE S (stream) is supported.");
}

awaitable<void> Session::cmd_stru(std::string arg) {
  if (arg == "F" || arg == "f") co_return say(200, "Structure set to F.");
  say(504, "Only STRU F (file) is supported.");
}

awaitable<void> Session::cmd_not_implemented(std::string) {
  say(502, "Command not implemented.");
  co_return;
}

}  // namespace sockit::ftp
