// Text on the wire: UTF-8 when a packet carries UTF8OPT (and for plain-text
// peers that send valid UTF-8), GBK for older IP Messenger / FeiQ clients and
// Chinese Windows tutorials. Whatever arrives becomes valid UTF-8 (bad bytes
// become U+FFFD, never an exception), and what we show on a terminal has no
// control characters that could move the cursor or recolour it.
#pragma once

#include <string>
#include <string_view>

namespace sockit::codec::chat {

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_valid_utf8(std::string_view bytes);

// `bytes` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string sanitize_utf8(std::string_view bytes);

// GBK (CP936) bytes as UTF-8; undecodable bytes become U+FFFD.
std::string gbk_to_utf8(std::string_view bytes);

// UTF-8 as GBK; characters GBK lacks become '?'. Input must be valid UTF-8.
std::string utf8_to_gbk(std::string_view utf8);

// Received text as UTF-8: UTF-8 if it is valid UTF-8 or `declared_utf8`,
// else GBK.
std::string decode_text(std::string_view bytes, bool declared_utf8);

// Valid UTF-8 made safe to print: C0 controls except '\t' and '\n', DEL and
// C1 controls become U+FFFD; "\r\n" becomes "\n".
std::string printable(std::string_view utf8);

// One event per line for scripts: printable(), then '\\' -> "\\\\", '\n' -> "\\n", '\t' -> "\\t".
std::string escape_line(std::string_view utf8);

}  // namespace sockit::codec::chat
