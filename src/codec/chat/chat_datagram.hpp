// What a chat datagram means, and the datagrams sockit chat sends: presence
// (BR_ENTRY, ANSENTRY, BR_EXIT), messages (SENDMSG|SENDCHECKOPT) and their
// acknowledgements (RECVMSG). Anything that is not an IP Messenger packet is
// a tutorial's plain-text message. See docs/protocol/chat.md. Sans-I/O.
#pragma once

#include "codec/chat/ipmsg_packet.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sockit::codec::chat {

// Largest datagram sockit chat sends or accepts: IP Messenger's classic
// receive buffer, so every client can read what we send.
inline constexpr std::size_t kMaxDatagram = 8192;
// Longest plain-text message: the tutorials read with recvfrom(1024) and
// would silently cut anything longer.
inline constexpr std::size_t kMaxPlainText = 1024;

// Who we are on the wire.
struct Identity {
  std::string user = "sockit";     // User field: no ':'
  std::string host = "localhost";  // Host field: no ':'
  std::string nickname;            // shown by other clients; defaults to user
  std::string group;
};

// The datagram's meaning, text already decoded to valid UTF-8.
struct Incoming {
  enum class Kind {
    empty,      // zero bytes (or only a line ending): ignored
    oversized,  // over kMaxDatagram: dropped
    plain,      // plain text: `text`
    entry,      // BR_ENTRY: `name` announces itself and wants an ANSENTRY
    answer,     // ANSENTRY: `name` is present
    exit,       // BR_EXIT: the sender leaves
    message,    // SENDMSG: `text`, `number`, `wants_ack`, `prev`
    ack,        // RECVMSG: `acked` is the number of the message received
    other,      // an IP Messenger command we do not support: ignored
  };
  Kind kind = Kind::empty;
  std::string text;
  std::string name;  // entry/answer: nickname, else user; message, exit: user
  std::uint64_t number = 0;
  std::uint64_t acked = 0;
  bool wants_ack = false;
  bool utf8 = false;  // the sender declared UTF-8 (UTF8OPT or CAPUTF8OPT)
  // sockit's ordering tag: the number of the previous message this sender
  // sent us (0: the first of its session); empty from other clients.
  std::optional<std::uint64_t> prev;
  // The sender marked this entry, answer or acknowledgement as sockit's: it
  // keeps per-sender order itself (prev tags), so we may pipeline to it.
  bool from_sockit = false;
  std::uint32_t command = 0;
};

Incoming classify(std::string_view datagram);

// Packets we send. `number` is our packet number for this datagram.
std::string presence_packet(const Identity& self, std::uint64_t number, std::uint32_t mode);
std::string ack_packet(const Identity& self, std::uint64_t number, std::uint64_t acked);
// A SENDMSG|SENDCHECKOPT carrying `text_utf8`; in GBK when `peer_utf8` is
// false (an old client); with sockit's ordering tag when `prev` is given.
std::string message_packet(const Identity& self, std::uint64_t number, std::string_view text_utf8,
                           bool peer_utf8, std::optional<std::uint64_t> prev);

// Why `text_utf8` cannot be sent as one datagram, or empty when it can.
// `plain`: to a plain-text peer (limit kMaxPlainText), else as a SENDMSG.
std::string why_unsendable(const Identity& self, std::string_view text_utf8, bool plain);

}  // namespace sockit::codec::chat
