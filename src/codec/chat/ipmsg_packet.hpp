// IP Messenger packets, the wire format of IP Messenger, FeiQ and iptux:
//
//   Ver:PacketNo:User:Host:Command:Extra
//
// Ver is "1" (FeiQ sends "1_lbt..."), PacketNo a decimal number the sender
// increases per packet, Command a decimal whose low byte is the mode
// (BR_ENTRY, SENDMSG, ...) and whose upper bits are option flags. Extra is
// everything after the fifth ':' and may itself hold ':' and NULs (an entry's
// group name and a message's attachments follow a NUL). Sans-I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sockit::codec::chat {

// Modes (the low byte of Command), from IP Messenger's ipmsg.h.
inline constexpr std::uint32_t kNoOperation = 0x00;
inline constexpr std::uint32_t kBrEntry = 0x01;
inline constexpr std::uint32_t kBrExit = 0x02;
inline constexpr std::uint32_t kAnsEntry = 0x03;
inline constexpr std::uint32_t kBrAbsence = 0x04;
inline constexpr std::uint32_t kSendMsg = 0x20;
inline constexpr std::uint32_t kRecvMsg = 0x21;
// Options.
inline constexpr std::uint32_t kSendCheckOpt = 0x100;    // SENDMSG: answer with RECVMSG
inline constexpr std::uint32_t kUtf8Opt = 0x800000;      // this packet's text is UTF-8
inline constexpr std::uint32_t kCapUtf8Opt = 0x1000000;  // the sender understands UTF-8
inline constexpr std::uint32_t kFileAttachOpt = 0x200000;

inline constexpr std::uint32_t mode_of(std::uint32_t command) {
  return command & 0xff;
}

// The standard IP Messenger port.
inline constexpr std::uint16_t kDefaultPort = 2425;
// Longest version, user and host fields accepted: far above what clients
// send, small enough that a hostile packet cannot make us keep much.
inline constexpr std::size_t kMaxVersionBytes = 64;
inline constexpr std::size_t kMaxNameBytes = 128;

struct Packet {
  std::string version = "1";
  std::uint64_t number = 0;
  std::string user;
  std::string host;
  std::uint32_t command = 0;
  std::string extra;  // raw bytes, in the sender's encoding

  std::uint32_t mode() const { return mode_of(command); }
  bool has(std::uint32_t option) const { return (command & option) == option; }
  friend bool operator==(const Packet&, const Packet&) = default;
};

// The packet in `datagram`, or nothing when it is not an IP Messenger packet
// (a tutorial's plain text, garbage): five ':'-separated header fields with a
// version starting with "1", decimal numbers that fit, bounded names without
// NULs. A missing Extra (only four ':') counts as an empty one.
std::optional<Packet> parse_packet(std::string_view datagram);

// The bytes of `packet`. Fields must not contain ':' (user, host, version)
// or the result would not parse back; build_packet does not check.
std::string build_packet(const Packet& packet);

// Extra cut at its first NUL: the text (an entry's nickname, a message), and
// what follows it (an entry's group name, attachments), without the NUL.
struct ExtraParts {
  std::string_view head;
  std::string_view tail;
};
ExtraParts split_extra(std::string_view extra);

}  // namespace sockit::codec::chat
