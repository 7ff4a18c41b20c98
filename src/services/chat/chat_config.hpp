// ChatConfig: everything `sockit chat` is started with, and the contacts
// file (TOML) that names peers:
//
//   [contacts]
//   bob = "192.168.1.20:2425"                              # an IP Messenger or sockit peer
//   tutorial = { address = "127.0.0.1:8080", plain = true }  # the tutorials' plain-text chat
//
// An address without a port gets 2425, IP Messenger's port.
#pragma once

#include "codec/chat/chat_datagram.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sockit::chat {

struct Contact {
  std::string name;
  std::string host;  // as written: an IP address or a host name
  std::uint16_t port = codec::chat::kDefaultPort;
  bool plain = false;  // speaks plain text, not IP Messenger
};

struct ChatConfig {
  std::string listen = "0.0.0.0:2425";
  codec::chat::Identity identity;
  std::optional<std::string> broadcast;  // host:port for BR_ENTRY/BR_EXIT
  std::vector<Contact> contacts;
  // Give up on a message not acknowledged within this.
  std::chrono::milliseconds give_up{10000};
  // First retransmission after max(this, twice the measured round trip);
  // each later one waits twice as long, at most max_retry_interval.
  std::chrono::milliseconds min_retry{20};
  std::chrono::milliseconds max_retry_interval{500};
  // Unacknowledged messages in flight to one sockit peer (1 to others,
  // which keep no order of their own).
  std::size_t window = 64;
  // Messages queued in all (refused beyond: the user is far ahead).
  std::size_t max_queued = 100000;
  // How long a message waits for its predecessor (see Inbox).
  std::chrono::milliseconds hold{5000};
};

// A peer address as users write it: NAME is not handled here; ip:port,
// [v6]:port, a bare IP (port 2425), and a "plain:" prefix for a plain-text
// peer. Nothing when `text` is not an address.
struct PeerAddress {
  std::string host;
  std::uint16_t port = 0;
  bool plain = false;
};
std::optional<PeerAddress> parse_peer_address(std::string_view text);

// Throws std::invalid_argument "FILE:LINE: contacts.NAME: what is wrong".
std::vector<Contact> parse_contacts(std::string_view toml_text, std::string_view source_name);
std::vector<Contact> load_contacts(const std::string& path);

// A name users can type after /to and scripts can split on: no whitespace,
// no ':' (it would read as an address), at most 64 bytes.
bool is_valid_name(std::string_view name);

}  // namespace sockit::chat
