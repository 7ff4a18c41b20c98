// ChatPeer: one sockit chat on one UDP socket. Presence (BR_ENTRY answered
// with ANSENTRY, BR_EXIT), reliable messages (SENDMSG|SENDCHECKOPT resent
// with backoff until a RECVMSG names them, or given up), duplicates
// suppressed and per-sender order kept by the Inbox, and plain-text peers
// (the tutorials' chat) talked to in plain text. The user interface gets
// events; it never sees a packet. Rules: docs/protocol/chat.md.
#pragma once

#include "codec/chat/chat_datagram.hpp"
#include "services/chat/chat_config.hpp"
#include "services/chat/inbox.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace sockit::chat {

// What the user sees. `from`/`to` is a peer's display name: its contact
// name, else the nickname it announced (when that is a valid name), else
// ip:port. `address` is always ip:port ([v6]:port).
class ChatEvents {
 public:
  virtual ~ChatEvents() = default;
  virtual void received(const std::string& from, const std::string& address, const std::string& text) = 0;
  virtual void delivered(std::uint64_t id, const std::string& to) = 0;
  // Plain-text peers have no acknowledgement: the message left, that is all.
  virtual void sent(std::uint64_t id, const std::string& to) = 0;
  virtual void failed(std::uint64_t id, const std::string& to, const std::string& reason) = 0;
  virtual void joined(const std::string& name, const std::string& address) = 0;
  virtual void left(const std::string& name, const std::string& address) = 0;
};

struct PeerInfo {
  std::string name;
  std::string address;
  bool contact = false;
  bool present = false;  // announced itself and has not left
  bool plain = false;
};

class ChatPeer {
 public:
  using udp = boost::asio::ip::udp;
  using Clock = std::chrono::steady_clock;

  // Binds the socket: throws net::StartupError (address in use, no such
  // address) or std::invalid_argument (a contact or broadcast address).
  ChatPeer(const boost::asio::any_io_executor& executor, ChatConfig config, ChatEvents& events);

  udp::endpoint local_endpoint() const;

  // Announces us, then receives and retransmits until stop().
  boost::asio::awaitable<void> run();

  // Queues `text` for `target` (a name, ip:port or plain:ip:port) and
  // returns its id (1, 2, ...). Exactly one delivered/sent/failed event
  // follows for that id, maybe before send() returns.
  std::uint64_t send(std::string_view target, std::string text);

  // Messages not yet delivered, sent or failed.
  std::size_t pending() const { return queued_ + in_flight_.size(); }

  // Says goodbye (BR_EXIT), fails what is pending, ends run().
  void stop();

  std::vector<PeerInfo> peers() const;

 private:
  struct Outgoing {
    std::uint64_t id = 0;
    std::uint64_t number = 0;
    udp::endpoint to;
    std::string text;
    std::string bytes;
    Clock::time_point first_sent{}, next_send{};
    Clock::duration interval{};
    int attempts = 0;
  };
  struct Peer {
    std::string contact_name;
    std::string nickname;
    bool plain = false;
    bool present = false;
    bool greeted = false;  // we sent it a BR_ENTRY: it answers with its name
    bool sockit = false;
    bool utf8 = true;  // what its text was: we answer in kind
    std::deque<Outgoing> queue;
    std::size_t in_flight = 0;
    std::uint64_t last_number = 0;  // our previous message to it: the next one's prev
    double srtt_ms = 0;
  };

  boost::asio::awaitable<void> receive_loop();
  boost::asio::awaitable<void> timer_loop();
  void handle(const udp::endpoint& from, std::string_view datagram);
  void handle_ack(const udp::endpoint& from, std::uint64_t acked);
  Peer* peer_for(const udp::endpoint& from);  // created when there is room
  std::string display(const udp::endpoint& endpoint) const;
  std::optional<udp::endpoint> find_target(std::string_view target, std::string& error);
  void pump(const udp::endpoint& to, Peer& peer);
  void retransmit_due(Clock::time_point now);
  void send_datagram(const udp::endpoint& to, std::string_view bytes);
  void announce(std::uint32_t mode);
  void wake_at(Clock::time_point when);
  std::uint64_t next_number() { return number_++; }

  ChatConfig config_;
  ChatEvents& events_;
  udp::socket socket_;
  boost::asio::steady_timer timer_;
  std::optional<udp::endpoint> broadcast_;
  std::map<udp::endpoint, Peer> peers_;
  std::unordered_map<std::uint64_t, Outgoing> in_flight_;  // by packet number
  std::size_t queued_ = 0;
  Inbox inbox_;
  std::uint64_t number_;
  std::uint64_t next_id_ = 1;
  bool stopped_ = false;
  std::vector<Inbox::Shown> shown_;  // scratch, reused
  std::array<char, codec::chat::kMaxDatagram + 1> buffer_{};
};

std::string address_text(const boost::asio::ip::udp::endpoint& endpoint);

}  // namespace sockit::chat
