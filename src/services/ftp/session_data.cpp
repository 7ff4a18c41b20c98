// Data connections: PASV EPSV PORT EPRT REST ABOR, opening the connection
// for a transfer, and running one while the control connection is watched
// for ABOR and the data connection for a stall.
#include "codec/ftp/address.hpp"
#include "codec/ftp/reply.hpp"
#include "services/ftp/ftps.hpp"
#include "services/ftp/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <charconv>
#include <ctime>

namespace sockit::ftp {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Commands a client may send during a transfer (answered after it).
constexpr std::size_t kMaxPending = 64;
}  // namespace

// ----------------------------------------------------------------- data connection setup

awaitable<void> Session::cmd_pasv(std::string) {
  if (epsv_all_) co_return say(503, "Only EPSV is allowed after EPSV ALL.");
  if (!local_address_.is_v4()) co_return say(425, "PASV is for IPv4; use EPSV.");
  std::string why;
  auto port =
      data_.listen_passive(local_address_, shared_->config.passive_min, shared_->config.passive_max, why);
  if (!port) co_return say(425, "Cannot open a passive port: " + why + ".");
  say(227, "Entering Passive Mode (" + codec::ftp::format_pasv(local_address_.to_string(), *port) + ").");
}

awaitable<void> Session::cmd_epsv(std::string arg) {
  if (arg == "ALL" || arg == "all") {
    epsv_all_ = true;
    co_return say(200, "EPSV ALL ok.");
  }
  if (!arg.empty() && arg != (local_address_.is_v4() ? "1" : "2"))
    co_return say(522, std::string("Network protocol not supported, use (") +
                           (local_address_.is_v4() ? "1" : "2") + ").");
  std::string why;
  auto port =
      data_.listen_passive(local_address_, shared_->config.passive_min, shared_->config.passive_max, why);
  if (!port) co_return say(425, "Cannot open a passive port: " + why + ".");
  say(229, "Entering Extended Passive Mode (" + codec::ftp::format_epsv(*port) + ").");
}

void Session::set_port_target(const codec::ftp::HostPort& target, std::string& why) {
  error_code ec;
  auto address = unmapped(asio::ip::make_address(target.host, ec));
  if (ec) {
    why = "bad address";
    return;
  }
  if (!shared_->config.allow_foreign_port && !same_host(address, peer_address_)) {
    why = "data connections go only to your own address (" + ip_ + ")";
    return;
  }
  if (target.port < 1024) {
    why = "data ports below 1024 are refused";
    return;
  }
  data_.set_active(asio::ip::tcp::endpoint(address, target.port));
}

awaitable<void> Session::cmd_port(std::string arg) {
  if (epsv_all_) co_return say(503, "Only EPSV is allowed after EPSV ALL.");
  auto target = codec::ftp::parse_port(arg);
  if (!target) co_return say(501, "Syntax: PORT h1,h2,h3,h4,p1,p2.");
  std::string why;
  set_port_target(*target, why);
  if (!why.empty()) {
    spdlog::warn("{} event=port_refused target={}:{} reason=\"{}\"", log_prefix(), target->host, target->port,
                 why);
    co_return say(500, "Illegal PORT command: " + why + ".");
  }
  say(200, "PORT command successful. Consider using PASV.");
}

awaitable<void> Session::cmd_eprt(std::string arg) {
  if (epsv_all_) co_return say(503, "Only EPSV is allowed after EPSV ALL.");
  auto target = codec::ftp::parse_eprt(arg);
  if (!target) co_return say(501, "Syntax: EPRT |1|h.h.h.h|port| or |2|v6addr|port|.");
  std::string why;
  set_port_target(*target, why);
  if (!why.empty()) {
    spdlog::warn("{} event=port_refused target={}:{} reason=\"{}\"", log_prefix(),
                 codec::ftp::one_line(target->host), target->port, why);
    co_return say(500, "Illegal EPRT command: " + why + ".");
  }
  say(200, "EPRT command successful. Consider using EPSV.");
}

awaitable<void> Session::cmd_rest(std::string arg) {
  std::uint64_t offset = 0;
  auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), offset);
  if (arg.empty() || ec != std::errc() || end != arg.data() + arg.size())
    co_return say(501, "REST takes a byte offset.");
  restart_ = offset;
  say(350, "Restart position accepted (" + std::to_string(offset) + ").");
}

awaitable<void> Session::cmd_abor(std::string) {
  data_.reset();
  say(225, "No transfer to abort.");
  co_return;
}

// ----------------------------------------------------------------- running a transfer

awaitable<std::optional<net::Stream>> Session::open_data(std::string mark, bool upload) {
  if (!data_.ready()) {
    say(425, "Use PORT, EPRT, PASV or EPSV first.");
    co_return std::nullopt;
  }
  bool passive = data_.passive();
  if (passive) {
    say(150, mark);
    co_await flush();
  }
  std::string why;
  auto socket =
      co_await data_.open(peer_address_, local_address_, shared_->config.accept_timeout, why, log_prefix());
  if (!socket) {
    spdlog::info("{} event=data_failed reason=\"{}\"", log_prefix(), why);
    say(425, "Cannot open data connection: " + why + ".");
    co_return std::nullopt;
  }
  if (!passive) {
    say(150, mark);
    co_await flush();
  }
  // TCP and Unix share the session's stream type; a data connection is TCP.
  // No Nagle: the last record and TLS's close_notify must not wait for the
  // client's delayed ACK (40 ms per transfer).
  error_code ec;
  socket->set_option(asio::ip::tcp::no_delay(true), ec);
  auto family = socket->local_endpoint(ec).protocol().family();
  auto executor = socket->get_executor();
  auto fd = socket->release(ec);
  if (ec) {
    say(425, "Cannot open data connection: " + ec.message() + ".");
    co_return std::nullopt;
  }
  net::StreamSocket stream_socket(executor, asio::generic::stream_protocol(family, IPPROTO_TCP), fd);
  if (!protect_data_) co_return net::Stream(std::move(stream_socket));
  // The client starts TLS once it has the 150 (ftplib waits for it).
  net::Stream data(std::move(stream_socket), *shared_->tls);
  if (!co_await secure_data(data, upload)) {
    keep_session(data);
    data.close();
    co_return std::nullopt;
  }
  co_return data;
}

awaitable<void> Session::stall_watch() {
  asio::steady_timer timer(control_.socket().get_executor());
  for (;;) {
    auto deadline = progress_ + shared_->config.data_timeout;
    if (Clock::now() >= deadline) co_return;
    timer.expires_at(deadline);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;  // the transfer ended first
  }
}

awaitable<bool> Session::abort_watch() {
  for (;;) {
    auto n = co_await read_control();
    if (control_ec_ || n == 0) co_return false;
    if (reader_.feed({read_buffer_.get(), n}) == codec::ftp::CommandReader::Status::too_long) co_return false;
    while (auto command = reader_.next()) {
      if (command->verb == "ABOR") co_return true;
      pending_.push_back(std::move(*command));             // answered after the transfer, in order
      if (pending_.size() > kMaxPending) co_return false;  // a flood, not a client: end the session
    }
  }
}

awaitable<Session::Outcome> Session::supervise(awaitable<bool> op) {
  using namespace asio::experimental::awaitable_operators;
  progress_ = Clock::now();
  transfer_failure_.clear();
  auto which = co_await (std::move(op) || stall_watch() || abort_watch());
  switch (which.index()) {
    case 0:
      co_return std::get<0>(which) ? Outcome::done : Outcome::failed;
    case 1:
      co_return Outcome::stalled;
    default:
      co_return std::get<2>(which) ? Outcome::aborted : Outcome::control_lost;
  }
}

void Session::finish_transfer(Outcome outcome, std::string_view done_text) {
  data_.reset();
  switch (outcome) {
    case Outcome::done:
      return say(226, done_text);
    case Outcome::failed:
      if (!transfer_failure_.empty()) return say(451, transfer_failure_);
      return say(426, "Data connection closed; transfer aborted.");
    case Outcome::stalled:
      spdlog::info("{} event=data_stalled timeout_ms={}", log_prefix(), shared_->config.data_timeout.count());
      return say(426, "Data connection stalled; transfer aborted.");
    case Outcome::aborted:
      say(426, "Transfer aborted.");
      return say(226, "ABOR successful.");
    case Outcome::control_lost:
      closing_ = true;
      close_reason_ = "control_closed_during_transfer";
      return;
  }
}

void Session::log_transfer(const std::string& path, char direction, std::uint64_t bytes,
                           Clock::time_point started, bool complete) {
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  (direction == 'o' ? shared_->counters.bytes_out : shared_->counters.bytes_in).fetch_add(bytes);
  spdlog::info("{} event=transfer direction={} path=\"{}\" bytes={} seconds={:.3f} status={}", log_prefix(),
               direction == 'o' ? "out" : "in", codec::ftp::one_line(path), bytes, seconds,
               complete ? "complete" : "incomplete");
  if (!shared_->xferlog) return;
  TransferRecord record;
  record.finished = static_cast<std::int64_t>(std::time(nullptr));
  record.seconds = seconds;
  record.remote_host = ip_;
  record.bytes = bytes;
  record.path = path;
  record.binary = binary_;
  record.direction = direction;
  record.access = account_->kind == AccountKind::anonymous ? 'a'
                  : account_->kind == AccountKind::guest   ? 'g'
                                                           : 'r';
  record.user = user_.value_or("*");
  record.complete = complete;
  shared_->xferlog->write(record);
}

}  // namespace sockit::ftp
