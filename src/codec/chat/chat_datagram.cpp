#include "codec/chat/chat_datagram.hpp"

#include "codec/chat/text_encoding.hpp"

#include <charconv>

namespace sockit::codec::chat {
namespace {

constexpr std::string_view kPrevTag = "sockit-prev=";
// After the last NUL of an entry, answer or RECVMSG: clients read the nickname,
// group and acknowledged number only up to their NUL and ignore it.
constexpr std::string_view kSockitMark = "sockit";

bool marked_sockit(std::string_view extra) {
  auto nul = extra.rfind('\0');
  return nul != std::string_view::npos && extra.substr(nul + 1) == kSockitMark;
}

// sockit's tag sits after the message's NUL, where IP Messenger puts file
// attachments only when FILEATTACHOPT is set: other clients ignore it.
std::optional<std::uint64_t> parse_prev(std::string_view tail, std::uint32_t command) {
  if ((command & kFileAttachOpt) != 0 || !tail.starts_with(kPrevTag)) return std::nullopt;
  tail.remove_prefix(kPrevTag.size());
  if (auto nul = tail.find('\0'); nul != std::string_view::npos) tail = tail.substr(0, nul);
  if (tail.empty() || tail.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), value);
  if (ec != std::errc{} || end != tail.data() + tail.size()) return std::nullopt;
  return value;
}

std::string strip_line_ending(std::string_view text) {
  // nc and `echo` send a newline the user did not mean as part of the text.
  if (text.ends_with("\r\n"))
    text.remove_suffix(2);
  else if (text.ends_with('\n'))
    text.remove_suffix(1);
  return std::string(text);
}

Packet header(const Identity& self, std::uint64_t number, std::uint32_t command) {
  Packet p;
  p.number = number;
  p.user = self.user;
  p.host = self.host;
  p.command = command;
  return p;
}

}  // namespace

Incoming classify(std::string_view datagram) {
  Incoming in;
  if (datagram.size() > kMaxDatagram) {
    in.kind = Incoming::Kind::oversized;
    return in;
  }
  auto packet = parse_packet(datagram);
  if (!packet) {
    auto text = strip_line_ending(datagram);
    in.kind = text.empty() ? Incoming::Kind::empty : Incoming::Kind::plain;
    in.text = decode_text(text, false);
    return in;
  }
  in.number = packet->number;
  in.command = packet->command;
  in.utf8 = packet->has(kUtf8Opt) || packet->has(kCapUtf8Opt);
  bool text_utf8 = packet->has(kUtf8Opt);
  auto [head, tail] = split_extra(packet->extra);
  in.from_sockit = marked_sockit(packet->extra);
  switch (packet->mode()) {
    case kBrEntry:
    case kAnsEntry: {
      in.kind = packet->mode() == kBrEntry ? Incoming::Kind::entry : Incoming::Kind::answer;
      in.name = printable(decode_text(head.empty() ? std::string_view(packet->user) : head, text_utf8));
      break;
    }
    case kBrExit:
      in.kind = Incoming::Kind::exit;
      in.name = printable(decode_text(packet->user, text_utf8));
      break;
    case kSendMsg:
      in.kind = Incoming::Kind::message;
      in.name = printable(decode_text(packet->user, text_utf8));
      in.text = decode_text(head, text_utf8);
      in.wants_ack = packet->has(kSendCheckOpt);
      in.prev = parse_prev(tail, packet->command);
      break;
    case kRecvMsg: {
      in.kind = Incoming::Kind::ack;
      auto text = std::string_view(head);
      std::uint64_t acked = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), acked);
      // Without a number the acknowledgement matches nothing.
      if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
        in.kind = Incoming::Kind::other;
      in.acked = acked;
      break;
    }
    default:
      in.kind = Incoming::Kind::other;
  }
  return in;
}

std::string presence_packet(const Identity& self, std::uint64_t number, std::uint32_t mode) {
  auto p = header(self, number, mode | kUtf8Opt | kCapUtf8Opt);
  if (mode != kBrExit) {
    p.extra = self.nickname.empty() ? self.user : self.nickname;
    p.extra += '\0';
    p.extra += self.group;
    p.extra += '\0';
    p.extra += kSockitMark;
  }
  return build_packet(p);
}

std::string ack_packet(const Identity& self, std::uint64_t number, std::uint64_t acked) {
  auto p = header(self, number, kRecvMsg | kUtf8Opt);
  p.extra = std::to_string(acked);
  p.extra += '\0';
  p.extra += kSockitMark;
  return build_packet(p);
}

std::string message_packet(const Identity& self, std::uint64_t number, std::string_view text_utf8,
                           bool peer_utf8, std::optional<std::uint64_t> prev) {
  auto p = header(self, number, kSendMsg | kSendCheckOpt | (peer_utf8 ? kUtf8Opt : 0));
  p.extra = peer_utf8 ? std::string(text_utf8) : utf8_to_gbk(text_utf8);
  if (prev) {
    p.extra += '\0';
    p.extra += kPrevTag;
    p.extra += std::to_string(*prev);
  }
  return build_packet(p);
}

std::string why_unsendable(const Identity& self, std::string_view text_utf8, bool plain) {
  if (text_utf8.empty()) return "an empty message is not sent";
  if (text_utf8.find('\0') != std::string_view::npos) return "a message cannot contain a NUL byte";
  if (plain) {
    if (text_utf8.size() > kMaxPlainText)
      return "message of " + std::to_string(text_utf8.size()) +
             " bytes is longer than a plain-text peer reads (" + std::to_string(kMaxPlainText) +
             " bytes): split it";
    return {};
  }
  // The largest packet we could make: UTF-8 (GBK is never longer), a full
  // packet number and ordering tag.
  auto size = message_packet(self, UINT64_MAX, text_utf8, true, UINT64_MAX).size();
  if (size > kMaxDatagram)
    return "message of " + std::to_string(text_utf8.size()) + " bytes does not fit one datagram (at most " +
           std::to_string(text_utf8.size() - (size - kMaxDatagram)) + " bytes): split it";
  return {};
}

}  // namespace sockit::codec::chat
