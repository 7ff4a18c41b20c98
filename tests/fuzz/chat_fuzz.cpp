// Any datagram classifies without crashing into valid UTF-8 text and names;
// a packet that parses re-builds to a datagram that parses to it again; any
// bytes survive the GBK and UTF-8 conversions; a message we build from the
// decoded text classifies back to the same text.
#include <string>
#include <string_view>

#include "codec/chat/chat_datagram.hpp"
#include "codec/chat/ipmsg_packet.hpp"
#include "codec/chat/text_encoding.hpp"

namespace chat = sockit::codec::chat;

namespace {
void check(bool ok) {
  if (!ok) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Leading zeros and a missing Extra are accepted, so compare packets, not bytes.
  if (auto packet = chat::parse_packet(bytes))
    check(chat::parse_packet(chat::build_packet(*packet)) == packet);
  auto in = chat::classify(bytes);
  check(chat::is_valid_utf8(in.text));
  check(chat::is_valid_utf8(in.name));
  check(chat::is_valid_utf8(chat::gbk_to_utf8(bytes)));
  check(chat::is_valid_utf8(chat::sanitize_utf8(bytes)));
  auto shown = chat::escape_line(in.text);
  check(shown.find('\n') == std::string::npos && shown.find('\x1b') == std::string::npos);
  chat::Identity me{"u", "h", "", ""};
  if (!in.text.empty() && chat::why_unsendable(me, in.text, false).empty()) {
    auto back = chat::classify(chat::message_packet(me, 1, in.text, true, 5));
    check(back.kind == chat::Incoming::Kind::message);
    check(back.text == in.text);
    check(back.prev == 5u);
    (void)chat::utf8_to_gbk(in.text);
  }
  return 0;
}
