#include "services/chat/chat_peer.hpp"

#include "codec/chat/text_encoding.hpp"
#include "net/both.hpp"
#include "net/endpoint.hpp"
#include "net/startup_error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ctime>

namespace sockit::chat {
namespace asio = boost::asio;
namespace wire = codec::chat;
using asio::awaitable;
using boost::system::error_code;
using Kind = wire::Incoming::Kind;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Peers we keep a record of; datagrams from more are still shown, by address.
constexpr std::size_t kMaxPeers = 4096;

ChatPeer::udp::endpoint resolve(const std::string& host, std::uint16_t port, const std::string& what) {
  error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) return {address, port};
  asio::io_context io;
  ChatPeer::udp::resolver resolver(io);
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty()) throw std::invalid_argument(what + ": cannot resolve host '" + host + "'");
  return results.begin()->endpoint();
}

}  // namespace

std::string address_text(const asio::ip::udp::endpoint& endpoint) {
  auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  auto host = address.to_string();
  if (address.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(endpoint.port());
}

ChatPeer::ChatPeer(const asio::any_io_executor& executor, ChatConfig config, ChatEvents& events)
    : config_(std::move(config)),
      events_(events),
      socket_(executor),
      timer_(executor),
      inbox_(InboxLimits{.hold = config_.hold}),
      // IP Messenger starts at the time in seconds: a restarted peer's numbers
      // then rarely meet the old ones in a receiver's duplicate memory.
      number_(static_cast<std::uint64_t>(std::time(nullptr))) {
  auto listen = parse_peer_address(config_.listen);
  if (!listen || listen->plain)
    throw std::invalid_argument("--listen: '" + config_.listen + "' is not ip:port");
  auto local = resolve(listen->host, listen->port, "--listen");
  if (config_.broadcast) {
    auto parsed = parse_peer_address(*config_.broadcast);
    if (!parsed || parsed->plain)
      throw std::invalid_argument("--broadcast: '" + *config_.broadcast + "' is not ip:port");
    broadcast_ = resolve(parsed->host, parsed->port, "--broadcast");
  }
  for (const auto& contact : config_.contacts) {
    auto endpoint = resolve(contact.host, contact.port, "contacts." + contact.name);
    auto& peer = peers_[endpoint];
    peer.contact_name = contact.name;
    peer.plain = contact.plain;
  }
  error_code ec;
  // No SO_REUSEADDR: on UDP it lets a second chat bind the same port and
  // silently take half of the first one's datagrams.
  socket_.open(local.protocol(), ec);
  if (!ec) socket_.bind(local, ec);
  if (ec) throw net::StartupError("cannot listen on udp://" + address_text(local) + ": " + ec.message());
  socket_.set_option(asio::socket_base::broadcast(true), ec);
  // Bursts of a thousand messages must not overflow the receive queue.
  socket_.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
  socket_.non_blocking(true, ec);
}

ChatPeer::udp::endpoint ChatPeer::local_endpoint() const {
  error_code ec;
  return socket_.local_endpoint(ec);
}

awaitable<void> ChatPeer::run() {
  announce(wire::kBrEntry);
  co_await net::both(receive_loop(), timer_loop());
}

void ChatPeer::send_datagram(const udp::endpoint& to, std::string_view bytes) {
  error_code ec;
  socket_.send_to(asio::buffer(bytes.data(), bytes.size()), to, 0, ec);
  // A full send buffer or an unreachable network is a lost datagram: the
  // retransmission (or the user, for presence) deals with it.
  if (ec) spdlog::debug("peer={} service=chat event=send-error error=\"{}\"", address_text(to), ec.message());
}

void ChatPeer::announce(std::uint32_t mode) {
  auto bytes = wire::presence_packet(config_.identity, next_number(), mode);
  if (broadcast_) send_datagram(*broadcast_, bytes);
  for (auto& [endpoint, peer] : peers_)
    if (!peer.plain && (!peer.contact_name.empty() || peer.present || peer.greeted) &&
        endpoint != broadcast_) {
      send_datagram(endpoint, bytes);
      peer.greeted = true;
    }
}

ChatPeer::Peer* ChatPeer::peer_for(const udp::endpoint& from) {
  auto it = peers_.find(from);
  if (it != peers_.end()) return &it->second;
  if (peers_.size() >= kMaxPeers) return nullptr;
  return &peers_[from];
}

std::string ChatPeer::display(const udp::endpoint& endpoint) const {
  auto it = peers_.find(endpoint);
  if (it != peers_.end()) {
    if (!it->second.contact_name.empty()) return it->second.contact_name;
    if (is_valid_name(it->second.nickname)) return it->second.nickname;
  }
  return address_text(endpoint);
}

std::vector<PeerInfo> ChatPeer::peers() const {
  std::vector<PeerInfo> out;
  for (const auto& [endpoint, peer] : peers_)
    out.push_back(
        {display(endpoint), address_text(endpoint), !peer.contact_name.empty(), peer.present, peer.plain});
  return out;
}

std::optional<ChatPeer::udp::endpoint> ChatPeer::find_target(std::string_view target, std::string& error) {
  for (const auto& [endpoint, peer] : peers_)
    if (peer.contact_name == target) return endpoint;
  for (const auto& [endpoint, peer] : peers_)
    if (peer.nickname == target) return endpoint;
  auto address = parse_peer_address(target);
  if (!address) {
    error = "no contact or peer named '" + std::string(target) + "' (see /who; or give ip:port)";
    return std::nullopt;
  }
  error_code ec;
  auto ip = asio::ip::make_address(address->host, ec);
  udp::endpoint endpoint;
  try {
    endpoint =
        ec ? resolve(address->host, address->port, std::string(target)) : udp::endpoint(ip, address->port);
  } catch (const std::invalid_argument& e) {
    error = e.what();
    return std::nullopt;
  }
  if (auto* peer = peer_for(endpoint); peer && address->plain) peer->plain = true;
  return endpoint;
}

std::uint64_t ChatPeer::send(std::string_view target, std::string text) {
  auto id = next_id_++;
  std::string error;
  std::optional<udp::endpoint> to;
  if (target.empty())
    error = "no recipient: choose one with /to NAME or /to ip:port";
  else
    to = find_target(target, error);
  auto* peer = to ? peer_for(*to) : nullptr;
  if (to && !peer) error = "too many peers known";
  if (error.empty() && stopped_) error = "stopped";
  if (error.empty() && pending() >= config_.max_queued) error = "too many messages waiting";
  if (error.empty()) error = wire::why_unsendable(config_.identity, text, peer->plain);
  if (!error.empty()) {
    events_.failed(id, to ? display(*to) : std::string(target), error);
    return id;
  }
  if (peer->plain) {
    send_datagram(*to, peer->utf8 ? text : wire::utf8_to_gbk(text));
    events_.sent(id, display(*to));
    return id;
  }
  if (!peer->present && !peer->greeted) {
    // Introduce ourselves first, as IP Messenger does: the answer tells us
    // its name, and whether it is a sockit that can take a whole window.
    send_datagram(*to, wire::presence_packet(config_.identity, next_number(), wire::kBrEntry));
    peer->greeted = true;
  }
  Outgoing message;
  message.id = id;
  message.to = *to;
  message.text = std::move(text);
  peer->queue.push_back(std::move(message));
  ++queued_;
  pump(*to, *peer);
  return id;
}

void ChatPeer::pump(const udp::endpoint& to, Peer& peer) {
  // Other clients keep no order of their own: one message at a time to them.
  std::size_t window = peer.sockit ? config_.window : 1;
  auto now = Clock::now();
  while (peer.in_flight < window && !peer.queue.empty()) {
    auto message = std::move(peer.queue.front());
    peer.queue.pop_front();
    --queued_;
    message.number = next_number();
    message.bytes =
        wire::message_packet(config_.identity, message.number, message.text, peer.utf8, peer.last_number);
    peer.last_number = message.number;
    auto first = std::max<Clock::duration>(config_.min_retry,
                                           std::chrono::microseconds(static_cast<long>(3000 * peer.srtt_ms)));
    message.interval = std::min<Clock::duration>(first, config_.max_retry_interval);
    message.first_sent = now;
    message.next_send = now + message.interval;
    message.attempts = 1;
    send_datagram(to, message.bytes);
    ++peer.in_flight;
    wake_at(message.next_send);
    in_flight_.emplace(message.number, std::move(message));
  }
}

void ChatPeer::wake_at(Clock::time_point when) {
  if (when < timer_.expiry()) timer_.expires_at(when);  // cancels the wait: the loop looks again
}

void ChatPeer::retransmit_due(Clock::time_point now) {
  std::vector<std::uint64_t> given_up;
  for (auto& [number, message] : in_flight_) {
    if (message.next_send > now) continue;
    if (now - message.first_sent >= config_.give_up) {
      given_up.push_back(number);
      continue;
    }
    send_datagram(message.to, message.bytes);
    ++message.attempts;
    message.interval = std::min<Clock::duration>(message.interval * 2, config_.max_retry_interval);
    message.next_send = now + message.interval;
  }
  for (auto number : given_up) {
    auto message = std::move(in_flight_.at(number));
    in_flight_.erase(number);
    auto& peer = peers_[message.to];
    --peer.in_flight;
    events_.failed(message.id, display(message.to),
                   fmt::format("no acknowledgement in {}s ({} tries)",
                               std::chrono::duration<double>(config_.give_up).count(), message.attempts));
    pump(message.to, peer);
  }
}

awaitable<void> ChatPeer::timer_loop() {
  while (!stopped_) {
    auto now = Clock::now();
    retransmit_due(now);
    shown_.clear();
    inbox_.expire(now, shown_);
    for (auto& s : shown_) {
      spdlog::debug("peer={} service=chat event=gap-skipped", s.sender);
      for (const auto& [endpoint, peer] : peers_)
        if (address_text(endpoint) == s.sender) events_.received(display(endpoint), s.sender, s.text);
    }
    auto next = Clock::time_point::max();
    for (const auto& [number, message] : in_flight_) next = std::min(next, message.next_send);
    if (auto expiry = inbox_.next_expiry()) next = std::min(next, *expiry);
    timer_.expires_at(next);
    co_await timer_.async_wait(use_tuple);  // cancelled by wake_at() or stop()
  }
}

awaitable<void> ChatPeer::receive_loop() {
  udp::endpoint from;
  while (!stopped_) {
    auto [ec, n] = co_await socket_.async_receive_from(asio::buffer(buffer_), from, use_tuple);
    if (stopped_ || ec == asio::error::operation_aborted) break;
    if (ec) {
      spdlog::debug("service=chat event=receive-error error=\"{}\"", ec.message());
      continue;
    }
    handle(from, {buffer_.data(), n});
    // Take what else is queued without a suspension each: a burst costs
    // one wake-up, not one per datagram.
    for (int i = 0; i < 64 && !stopped_; ++i) {
      error_code more_ec;
      auto more = socket_.receive_from(asio::buffer(buffer_), from, 0, more_ec);
      if (more_ec) break;
      handle(from, {buffer_.data(), more});
    }
  }
}

void ChatPeer::handle(const udp::endpoint& from, std::string_view datagram) {
  auto in = wire::classify(datagram);
  auto address = address_text(from);
  switch (in.kind) {
    case Kind::oversized:
      spdlog::warn("peer={} service=chat event=dropped reason=oversized bytes>{}", address,
                   wire::kMaxDatagram);
      return;
    case Kind::empty:
    case Kind::other:
      spdlog::debug("peer={} service=chat event=ignored command={}", address, in.command);
      return;
    case Kind::plain: {
      if (auto* peer = peer_for(from)) {
        peer->plain = true;
        peer->utf8 = wire::is_valid_utf8(datagram);
      }
      events_.received(display(from), address, in.text);
      return;
    }
    case Kind::entry:
    case Kind::answer: {
      auto* peer = peer_for(from);
      if (!peer) return;
      bool was_present = peer->present;
      peer->present = true;
      peer->plain = false;
      peer->nickname = in.name;
      peer->utf8 = in.utf8;
      if (in.from_sockit) peer->sockit = true;
      if (in.kind == Kind::entry)
        send_datagram(from, wire::presence_packet(config_.identity, next_number(), wire::kAnsEntry));
      if (!was_present) events_.joined(display(from), address);
      return;
    }
    case Kind::exit: {
      auto it = peers_.find(from);
      if (it == peers_.end() || !it->second.present) return;
      it->second.present = false;
      events_.left(display(from), address);
      return;
    }
    case Kind::ack:
      handle_ack(from, in.acked);
      if (auto* peer = peer_for(from); peer && in.from_sockit && !peer->sockit) {
        peer->sockit = true;
        pump(from, *peer);  // the window opens
      }
      return;
    case Kind::message: {
      if (auto* peer = peer_for(from)) {
        peer->plain = false;
        peer->utf8 = in.utf8;
        if (peer->nickname.empty()) peer->nickname = in.name;  // no entry seen (lost, or none sent)
      }
      if (in.wants_ack) send_datagram(from, wire::ack_packet(config_.identity, next_number(), in.number));
      shown_.clear();
      if (!inbox_.accept(address, in.number, in.prev, std::move(in.text), Clock::now(), shown_)) return;
      for (auto& s : shown_) events_.received(display(from), address, s.text);
      if (auto expiry = inbox_.next_expiry()) wake_at(*expiry);
      return;
    }
  }
}

void ChatPeer::handle_ack(const udp::endpoint& from, std::uint64_t acked) {
  auto it = in_flight_.find(acked);
  if (it == in_flight_.end() || it->second.to != from) return;  // late, duplicate or forged
  auto message = std::move(it->second);
  in_flight_.erase(it);
  auto& peer = peers_[from];
  --peer.in_flight;
  if (message.attempts == 1) {
    double rtt = std::chrono::duration<double, std::milli>(Clock::now() - message.first_sent).count();
    peer.srtt_ms = peer.srtt_ms == 0 ? rtt : 0.875 * peer.srtt_ms + 0.125 * rtt;
  }
  events_.delivered(message.id, display(from));
  pump(from, peer);
}

void ChatPeer::stop() {
  if (stopped_) return;
  announce(wire::kBrExit);
  stopped_ = true;
  for (auto& [number, message] : in_flight_) events_.failed(message.id, display(message.to), "stopped");
  in_flight_.clear();
  for (auto& [endpoint, peer] : peers_) {
    for (auto& message : peer.queue) events_.failed(message.id, display(endpoint), "stopped");
    peer.queue.clear();
    peer.in_flight = 0;
  }
  queued_ = 0;
  error_code ec;
  socket_.cancel(ec);
  timer_.cancel();
}

}  // namespace sockit::chat
